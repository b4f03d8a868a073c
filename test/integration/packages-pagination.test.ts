import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  ListPackagesCommand,
  ListPackageVersionsCommand,
  UpdatePackageVersionCommand,
  type PackageVersionStatus,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const PACKAGES = 55;
const VERSIONS = 23;
const pkgName = (i: number) => `page-${String(i).padStart(3, '0')}`;

/** Lists that really page: default page size 50, opaque tokens, no duplicates or gaps (packages.md §3.1). */
for (const backend of await testBackends()) {
  describe(`package catalog pagination (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      for (let i = 0; i < PACKAGES; i++) await t.iot.send(new CreatePackageCommand({ packageName: pkgName(i) }));
      // Versions created one second apart; every third one published.
      for (let i = 0; i < VERSIONS; i++) {
        await t.iot.send(new CreatePackageVersionCommand({ packageName: pkgName(0), versionName: `v${i}` }));
        if (i % 3 === 0) await t.iot.send(new UpdatePackageVersionCommand({ packageName: pkgName(0), versionName: `v${i}`, action: 'PUBLISH' }));
        t.clock.advance(1_000);
      }
    });
    after(async () => t?.close());

    async function walkPackages(maxResults?: number): Promise<{ names: string[]; pages: number[] }> {
      const names: string[] = [];
      const pages: number[] = [];
      let nextToken: string | undefined;
      do {
        const out = await t.iot.send(new ListPackagesCommand({ maxResults, nextToken }));
        const page = out.packageSummaries ?? [];
        pages.push(page.length);
        names.push(...page.map((s) => s.packageName!));
        nextToken = out.nextToken;
        assert.ok(pages.length <= PACKAGES + 1, 'the token chain must end');
      } while (nextToken);
      return { names, pages };
    }

    async function walkVersions(maxResults: number, status?: PackageVersionStatus): Promise<{ names: string[]; pages: number[] }> {
      const names: string[] = [];
      const pages: number[] = [];
      let nextToken: string | undefined;
      do {
        const out = await t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(0), maxResults, nextToken, status }));
        const page = out.packageVersionSummaries ?? [];
        pages.push(page.length);
        names.push(...page.map((s) => s.versionName!));
        nextToken = out.nextToken;
        assert.ok(pages.length <= VERSIONS + 1, 'the token chain must end');
      } while (nextToken);
      return { names, pages };
    }

    const expectedPackages = Array.from({ length: PACKAGES }, (_, i) => pkgName(i));

    it('pages ListPackages with the default page size of 50', async () => {
      const first = await t.iot.send(new ListPackagesCommand({}));
      assert.equal(first.packageSummaries?.length, 50);
      assert.ok(first.nextToken, 'a second page is announced');
      const second = await t.iot.send(new ListPackagesCommand({ nextToken: first.nextToken }));
      assert.equal(second.packageSummaries?.length, 5);
      assert.equal(second.nextToken, undefined);
      assert.deepEqual([...first.packageSummaries!, ...second.packageSummaries!].map((s) => s.packageName), expectedPackages);
    });

    it('walks every package exactly once in name order with small pages', async () => {
      const { names, pages } = await walkPackages(7);
      assert.deepEqual(names, expectedPackages);
      assert.deepEqual(pages, [7, 7, 7, 7, 7, 7, 7, 6]);
      const exact = await walkPackages(55);
      assert.deepEqual(exact.pages, [55]);
      const all = await walkPackages(100);
      assert.deepEqual(all.names, expectedPackages);
      assert.deepEqual(all.pages, [55]);
    });

    it('keeps paging correctly when packages come and go between pages', async () => {
      const first = await t.iot.send(new ListPackagesCommand({ maxResults: 10 }));
      assert.equal(first.packageSummaries?.at(-1)?.packageName, pkgName(9));
      // Delete one already seen and one not yet seen, and add one ahead of the cursor.
      await t.iot.send(new DeletePackageCommand({ packageName: pkgName(3) }));
      await t.iot.send(new DeletePackageCommand({ packageName: pkgName(20) }));
      await t.iot.send(new CreatePackageCommand({ packageName: `${pkgName(20)}a` }));
      const rest: string[] = [];
      let nextToken = first.nextToken;
      while (nextToken) {
        const out = await t.iot.send(new ListPackagesCommand({ maxResults: 10, nextToken }));
        rest.push(...(out.packageSummaries ?? []).map((s) => s.packageName!));
        nextToken = out.nextToken;
      }
      assert.deepEqual(rest, expectedPackages.slice(10).filter((n) => n !== pkgName(20)).flatMap((n) => (n === pkgName(21) ? [`${pkgName(20)}a`, n] : [n])));
      await t.iot.send(new CreatePackageCommand({ packageName: pkgName(3) }));
      await t.iot.send(new CreatePackageCommand({ packageName: pkgName(20) }));
      await t.iot.send(new DeletePackageCommand({ packageName: `${pkgName(20)}a` }));
    });

    it('walks versions in creation order, with and without a status filter', async () => {
      const all = Array.from({ length: VERSIONS }, (_, i) => `v${i}`);
      const walked = await walkVersions(5);
      assert.deepEqual(walked.names, all);
      assert.deepEqual(walked.pages, [5, 5, 5, 5, 3]);

      const published = await walkVersions(3, 'PUBLISHED');
      assert.deepEqual(published.names, all.filter((_, i) => i % 3 === 0));
      assert.deepEqual(published.pages, [3, 3, 2]);
      const drafts = await walkVersions(10, 'DRAFT');
      assert.deepEqual(drafts.names, all.filter((_, i) => i % 3 !== 0));
    });

    it('refuses a token from another listing', async () => {
      const packages = await t.iot.send(new ListPackagesCommand({ maxResults: 1 }));
      const versions = await t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(0), maxResults: 1 }));
      const drafts = await t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(0), maxResults: 1, status: 'DRAFT' }));
      assert.ok(packages.nextToken && versions.nextToken && drafts.nextToken);
      await expectAwsError(t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(0), nextToken: packages.nextToken })), 'ValidationException', { status: 400 });
      await expectAwsError(t.iot.send(new ListPackagesCommand({ nextToken: versions.nextToken })), 'ValidationException', { status: 400 });
      await expectAwsError(t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(1), nextToken: versions.nextToken })), 'ValidationException');
      await expectAwsError(t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(0), nextToken: drafts.nextToken })), 'ValidationException');
      // The right token on the right listing continues it.
      const next = await t.iot.send(new ListPackageVersionsCommand({ packageName: pkgName(0), maxResults: 1, nextToken: versions.nextToken }));
      assert.deepEqual(next.packageVersionSummaries?.map((s) => s.versionName), ['v1']);
    });
  });
}
