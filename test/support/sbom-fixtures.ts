import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * SBOMs for tests. The realistic ones are made at test time by real tools from this repository's
 * own lockfile (`npm sbom --package-lock-only`, and @cyclonedx/cyclonedx-npm when installed);
 * small hand-written ones cover versions the tools do not emit.
 */
const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const npmSboms = new Map<string, Promise<string>>();

/** `npm sbom` output for this repository (npm 11 writes SPDX 2.3 / CycloneDX 1.5). */
export function npmSbom(format: 'spdx' | 'cyclonedx'): Promise<string> {
  let out = npmSboms.get(format);
  if (!out) {
    out = run('npm', ['sbom', '--sbom-format', format, '--package-lock-only'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout);
    npmSboms.set(format, out);
  }
  return out;
}

/** CycloneDX from @cyclonedx/cyclonedx-npm, or why it could not be made (the tool is not installed). */
export async function cyclonedxNpmSbom(): Promise<{ sbom: string } | { skip: string }> {
  try {
    const { stdout } = await run('npx', ['--no-install', '@cyclonedx/cyclonedx-npm', '--package-lock-only', '--output-format', 'JSON', '--output-file', '-'], {
      cwd: REPO_ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { sbom: stdout };
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
    return { skip: `@cyclonedx/cyclonedx-npm is not installed (npx --no-install failed: ${detail}); its SBOM is not tested` };
  }
}

export function minimalSpdx(spdxVersion = 'SPDX-2.3'): Record<string, unknown> {
  return {
    spdxVersion,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'firmware-1.0.0',
    documentNamespace: 'https://example.com/spdxdocs/firmware-1.0.0-6c0b6a4e',
    creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: hand-written'] },
    documentDescribes: ['SPDXRef-Package-firmware'],
    packages: [
      {
        SPDXID: 'SPDXRef-Package-firmware',
        name: 'firmware',
        versionInfo: '1.0.0',
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'Apache-2.0',
      },
    ],
    relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-Package-firmware', relationshipType: 'DESCRIBES' }],
  };
}

export function minimalCycloneDx(specVersion = '1.6'): Record<string, unknown> {
  return {
    $schema: `http://cyclonedx.org/schema/bom-${specVersion}.schema.json`,
    bomFormat: 'CycloneDX',
    specVersion,
    serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
    version: 1,
    metadata: { timestamp: '2026-01-01T00:00:00Z', component: { type: 'firmware', name: 'firmware', version: '1.0.0', 'bom-ref': 'fw' } },
    components: [
      { type: 'library', name: 'zlib', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1', licenses: [{ license: { id: 'Zlib' } }], 'bom-ref': 'zlib' },
    ],
    dependencies: [{ ref: 'fw', dependsOn: ['zlib'] }, { ref: 'zlib' }],
  };
}

export function json(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc, null, 2));
}
