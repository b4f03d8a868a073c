// The harness's own ceiling: a bare node:http server answering every request with a
// GetPackageVersion-sized JSON body, no signature check, no database.
//   BENCH_SERVER_SCRIPT=bench/bare-server.mjs npm run bench:api -- --backends sqlite --ops GetPackageVersion
import http from 'node:http';

const body = JSON.stringify({
  packageVersionArn: 'arn:aws:iot:us-east-1:123456789012:package/bench/version/seed-1',
  packageName: 'bench',
  versionName: 'seed-1',
  attributes: { os: 'linux', i: '1' },
  status: 'DRAFT',
  creationDate: 1764000000.123,
  lastModifiedDate: 1764000000.123,
});
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID(), 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
const port = Number(process.argv[process.argv.indexOf('--port') + 1] || 0);
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
