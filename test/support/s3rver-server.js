'use strict';
/**
 * A real S3-compatible server (s3rver) for the tests, in a child process of its own, so that its Koa stack and
 * logger stay out of Jest's module registry and a test can stop it like any server. Usage:
 * `node s3rver-server.js <directory> <bucket>`; prints `listening <port>` once it serves on 127.0.0.1, and stops when
 * its standard input closes (its parent went away) or on SIGTERM.
 */
const S3rver = require('s3rver');

async function main() {
  const [directory, bucket] = process.argv.slice(2);
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  process.stdout.write(`listening ${port}\n`);
  const stop = () => server.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
