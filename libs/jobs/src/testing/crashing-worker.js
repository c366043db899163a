// A worker process for the crash test: takes one job, records it, then hangs until killed.
// Plain JavaScript with pg-boss directly, so it runs without a TypeScript step.
'use strict';
const PgBoss = require('pg-boss');
const { Client } = require('pg');

async function main() {
  const url = process.argv[2];
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  await boss.start();
  const pg = new Client({ connectionString: url });
  await pg.connect();
  await boss.work('volumes.check', { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
    await pg.query('INSERT INTO runs (job_id, worker) VALUES ($1, $2)', [job.id, 'doomed']);
    await new Promise(() => undefined); // never finishes: the process is killed here
  });
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
