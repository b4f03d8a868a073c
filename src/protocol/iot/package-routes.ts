import type { PackageConfigurationService } from '../../domain/packages/package-configuration.js';
import type { PackageService } from '../../domain/packages/package-service.js';
import type { SbomService } from '../../domain/packages/sbom-service.js';
import type { PackageVersionService } from '../../domain/packages/version-service.js';
import { controlPlaneJson, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

export interface CatalogServices {
  packages: PackageService;
  versions: PackageVersionService;
  sboms: SbomService;
  configuration: PackageConfigurationService;
}

/** Software Package Catalog routes (packages.md §3): the door parses and formats, nothing more. */
export function packageRoutes(s: CatalogServices): RouteDefinition[] {
  const token = (q: URLSearchParams) => queryString(q, 'clientToken');
  return [
    { method: 'PUT', path: '/packages/:packageName', operation: 'CreatePackage',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.packages.createPackage({ ...body, packageName: params.packageName, clientToken: token(query) })) },
    { method: 'GET', path: '/packages/:packageName', operation: 'GetPackage',
      handler: async ({ params }) => controlPlaneJson(await s.packages.getPackage({ packageName: params.packageName })) },
    { method: 'PATCH', path: '/packages/:packageName', operation: 'UpdatePackage',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.packages.updatePackage({ ...body, packageName: params.packageName, clientToken: token(query) })) },
    { method: 'DELETE', path: '/packages/:packageName', operation: 'DeletePackage',
      handler: async ({ params, query }) => controlPlaneJson(await s.packages.deletePackage({ packageName: params.packageName, clientToken: token(query) })) },
    { method: 'GET', path: '/packages', operation: 'ListPackages',
      handler: async ({ query }) => controlPlaneJson(await s.packages.listPackages({ maxResults: queryInt(query, 'maxResults'), nextToken: queryString(query, 'nextToken') })) },

    { method: 'PUT', path: '/packages/:packageName/versions/:versionName', operation: 'CreatePackageVersion',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.versions.createPackageVersion({ ...body, ...params, clientToken: token(query) })) },
    { method: 'GET', path: '/packages/:packageName/versions/:versionName', operation: 'GetPackageVersion',
      handler: async ({ params }) => controlPlaneJson(await s.versions.getPackageVersion(params)) },
    { method: 'PATCH', path: '/packages/:packageName/versions/:versionName', operation: 'UpdatePackageVersion',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.versions.updatePackageVersion({ ...body, ...params, clientToken: token(query) })) },
    { method: 'DELETE', path: '/packages/:packageName/versions/:versionName', operation: 'DeletePackageVersion',
      handler: async ({ params, query }) => controlPlaneJson(await s.versions.deletePackageVersion({ ...params, clientToken: token(query) })) },
    { method: 'GET', path: '/packages/:packageName/versions', operation: 'ListPackageVersions',
      handler: async ({ params, query }) => controlPlaneJson(await s.versions.listPackageVersions({
        packageName: params.packageName, status: queryString(query, 'status'), maxResults: queryInt(query, 'maxResults'), nextToken: queryString(query, 'nextToken') })) },

    { method: 'PUT', path: '/packages/:packageName/versions/:versionName/sbom', operation: 'AssociateSbomWithPackageVersion',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.sboms.associateSbom({ ...body, ...params, clientToken: token(query) })) },
    { method: 'DELETE', path: '/packages/:packageName/versions/:versionName/sbom', operation: 'DisassociateSbomFromPackageVersion',
      handler: async ({ params, query }) => controlPlaneJson(await s.sboms.disassociateSbom({ ...params, clientToken: token(query) })) },
    { method: 'GET', path: '/packages/:packageName/versions/:versionName/sbom-validation-results', operation: 'ListSbomValidationResults',
      handler: async ({ params, query }) => controlPlaneJson(await s.sboms.listSbomValidationResults({
        ...params, validationResult: queryString(query, 'validationResult'), maxResults: queryInt(query, 'maxResults'), nextToken: queryString(query, 'nextToken') })) },

    { method: 'GET', path: '/package-configuration', operation: 'GetPackageConfiguration',
      handler: async () => controlPlaneJson(await s.configuration.getPackageConfiguration()) },
    { method: 'PATCH', path: '/package-configuration', operation: 'UpdatePackageConfiguration',
      handler: async ({ body, query }) => controlPlaneJson(await s.configuration.updatePackageConfiguration({ ...body, clientToken: token(query) })) },
  ];
}
