import type { IncomingHttpHeaders } from 'node:http';
import type { CaCertificateService } from '../../domain/certificates/ca-certificate-service.js';
import type { CertificateService } from '../../domain/certificates/certificate-service.js';
import type { ThingPrincipalService } from '../../domain/certificates/thing-principal-service.js';
import { controlPlaneJson, queryBool, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

export interface CertificateServices {
  certificates: CertificateService;
  caCertificates: CaCertificateService;
  principals: ThingPrincipalService;
}

const listing = (q: URLSearchParams) => ({ pageSize: queryInt(q, 'pageSize'), marker: queryString(q, 'marker'), ascendingOrder: queryBool(q, 'isAscendingOrder') });
const principalListing = (q: URLSearchParams) => ({ maxResults: queryInt(q, 'maxResults'), nextToken: queryString(q, 'nextToken'), thingPrincipalType: queryString(q, 'thingPrincipalType') });
const principal = (h: IncomingHttpHeaders) => (typeof h['x-amzn-principal'] === 'string' ? h['x-amzn-principal'] : undefined);

/** Certificates, CA certificates and thing principals (issue 11 items 2–3), on the paths of AWS's model. */
export function certificateRoutes({ certificates: c, caCertificates: ca, principals: p }: CertificateServices): RouteDefinition[] {
  return [
    { method: 'POST', path: '/keys-and-certificate', operation: 'CreateKeysAndCertificate',
      handler: async ({ query }) => controlPlaneJson(await c.createKeysAndCertificate({ setAsActive: queryBool(query, 'setAsActive') })) },
    { method: 'POST', path: '/certificates', operation: 'CreateCertificateFromCsr',
      handler: async ({ query, body }) => controlPlaneJson(await c.createCertificateFromCsr({ ...body, setAsActive: queryBool(query, 'setAsActive') })) },
    { method: 'POST', path: '/certificate/register', operation: 'RegisterCertificate',
      handler: async ({ query, body }) => controlPlaneJson(await c.registerCertificate({ ...body, setAsActive: queryBool(query, 'setAsActive') })) },
    { method: 'POST', path: '/certificate/register-no-ca', operation: 'RegisterCertificateWithoutCA',
      handler: async ({ body }) => controlPlaneJson(await c.registerCertificateWithoutCA(body)) },
    { method: 'GET', path: '/certificates', operation: 'ListCertificates',
      handler: async ({ query }) => controlPlaneJson(await c.listCertificates(listing(query))) },
    { method: 'GET', path: '/certificates-by-ca/:caCertificateId', operation: 'ListCertificatesByCA',
      handler: async ({ params, query }) => controlPlaneJson(await c.listCertificates({ ...listing(query), caCertificateId: params.caCertificateId })) },
    { method: 'GET', path: '/certificates/:certificateId', operation: 'DescribeCertificate',
      handler: async ({ params }) => controlPlaneJson(await c.describeCertificate({ certificateId: params.certificateId })) },
    { method: 'PUT', path: '/certificates/:certificateId', operation: 'UpdateCertificate',
      handler: async ({ params, query }) => controlPlaneJson(await c.updateCertificate({ certificateId: params.certificateId, newStatus: queryString(query, 'newStatus') })) },
    { method: 'DELETE', path: '/certificates/:certificateId', operation: 'DeleteCertificate',
      handler: async ({ params, query }) => controlPlaneJson(await c.deleteCertificate({ certificateId: params.certificateId, forceDelete: queryBool(query, 'forceDelete') })) },

    { method: 'GET', path: '/registrationcode', operation: 'GetRegistrationCode', handler: async () => controlPlaneJson(await ca.getRegistrationCode()) },
    { method: 'DELETE', path: '/registrationcode', operation: 'DeleteRegistrationCode', handler: async () => controlPlaneJson(await ca.deleteRegistrationCode()) },
    { method: 'POST', path: '/cacertificate', operation: 'RegisterCACertificate',
      handler: async ({ query, body }) => controlPlaneJson(await ca.registerCaCertificate({ ...body, setAsActive: queryBool(query, 'setAsActive'), allowAutoRegistration: queryBool(query, 'allowAutoRegistration') })) },
    { method: 'GET', path: '/cacertificates', operation: 'ListCACertificates',
      handler: async ({ query }) => controlPlaneJson(await ca.listCaCertificates({ ...listing(query), templateName: queryString(query, 'templateName') })) },
    { method: 'GET', path: '/cacertificate/:caCertificateId', operation: 'DescribeCACertificate',
      handler: async ({ params }) => controlPlaneJson(await ca.describeCaCertificate({ certificateId: params.caCertificateId })) },
    { method: 'PUT', path: '/cacertificate/:caCertificateId', operation: 'UpdateCACertificate',
      handler: async ({ params, query, body }) =>
        controlPlaneJson(await ca.updateCaCertificate({ ...body, certificateId: params.caCertificateId, newStatus: queryString(query, 'newStatus'), newAutoRegistrationStatus: queryString(query, 'newAutoRegistrationStatus') })) },
    { method: 'DELETE', path: '/cacertificate/:caCertificateId', operation: 'DeleteCACertificate',
      handler: async ({ params }) => controlPlaneJson(await ca.deleteCaCertificate({ certificateId: params.caCertificateId })) },

    { method: 'PUT', path: '/things/:thingName/principals', operation: 'AttachThingPrincipal',
      handler: async ({ params, query, headers }) => controlPlaneJson(await p.attachThingPrincipal({ thingName: params.thingName, principal: principal(headers), thingPrincipalType: queryString(query, 'thingPrincipalType') })) },
    { method: 'DELETE', path: '/things/:thingName/principals', operation: 'DetachThingPrincipal',
      handler: async ({ params, headers }) => controlPlaneJson(await p.detachThingPrincipal({ thingName: params.thingName, principal: principal(headers) })) },
    { method: 'GET', path: '/things/:thingName/principals', operation: 'ListThingPrincipals',
      handler: async ({ params, query }) => controlPlaneJson(await p.listThingPrincipals({ ...principalListing(query), thingPrincipalType: undefined, thingName: params.thingName })) },
    { method: 'GET', path: '/things/:thingName/principals-v2', operation: 'ListThingPrincipalsV2',
      handler: async ({ params, query }) => controlPlaneJson(await p.listThingPrincipals({ ...principalListing(query), thingName: params.thingName }, true)) },
    { method: 'GET', path: '/principals/things', operation: 'ListPrincipalThings',
      handler: async ({ query, headers }) => controlPlaneJson(await p.listPrincipalThings({ ...principalListing(query), thingPrincipalType: undefined, principal: principal(headers) })) },
    { method: 'GET', path: '/principals/things-v2', operation: 'ListPrincipalThingsV2',
      handler: async ({ query, headers }) => controlPlaneJson(await p.listPrincipalThings({ ...principalListing(query), principal: principal(headers) }, true)) },
  ];
}
