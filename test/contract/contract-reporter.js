'use strict';
/**
 * Jest reporter that holds the app to its OpenAPI document. It gives the run a folder (CONTRACT_RECORD_DIR, set
 * before the workers start, so they inherit it); every test app records its responses there (recorder.ts). When the
 * run ends it checks each response against the committed openapi.json, and, on a run of the whole suite, that every
 * documented status was exercised by some test or is listed in unreachable-statuses.js. Any problem fails the run.
 *
 * Set CONTRACT_COVERAGE=1 to check coverage on a partial run too, or CONTRACT_COVERAGE=0 to skip it;
 * CONTRACT_DUMP=<file> keeps the run's recorded responses in that file (one JSON line each).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { checkResponses, coverageGaps } = require('./contract-check');
const { UNREACHABLE_STATUSES } = require('./unreachable-statuses');

const RECORD_DIR_ENV = 'CONTRACT_RECORD_DIR';

function readRecords(dir) {
  const records = [];
  for (const name of fs.readdirSync(dir)) {
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (line) records.push(JSON.parse(line));
    }
  }
  return records;
}

/** The whole suite ran: no file, name, shard or change filter. */
function isFullRun(config) {
  return (
    !config.testPathPattern &&
    !config.testNamePattern &&
    !config.onlyChanged &&
    !config.onlyFailures &&
    !config.findRelatedTests &&
    !config.changedSince &&
    !config.lastCommit &&
    !config.shard &&
    !(config.selectProjects ?? []).length &&
    (config.nonFlagArgs ?? []).length === 0
  );
}

class ContractReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.root = globalConfig.rootDir;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-contract-'));
    process.env[RECORD_DIR_ENV] = this.dir;
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    try {
      this.check(results);
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  check(results) {
    const records = readRecords(this.dir);
    if (process.env.CONTRACT_DUMP)
      fs.writeFileSync(process.env.CONTRACT_DUMP, records.map((r) => JSON.stringify(r)).join('\n'));
    if (records.length === 0) return;
    const document = JSON.parse(fs.readFileSync(path.join(this.root, 'openapi.json'), 'utf8'));
    const { violations, exercised } = checkResponses(document, records);
    const wanted = process.env.CONTRACT_COVERAGE;
    const checkCoverage = wanted === '1' || (wanted !== '0' && isFullRun(this.globalConfig));
    const gaps = checkCoverage ? coverageGaps(document, exercised, UNREACHABLE_STATUSES) : { missing: [], stale: [] };
    const lines = [];
    for (const v of violations.slice(0, 50)) lines.push(`  ${v.response}: ${v.problem}\n      (${v.testPath})`);
    if (violations.length > 50) lines.push(`  … and ${violations.length - 50} more`);
    if (gaps.missing.length) {
      lines.push('  Documented but never exercised (test it, or list it with the reason in unreachable-statuses.js):');
      for (const k of gaps.missing) lines.push(`    ${k}`);
    }
    if (gaps.stale.length) {
      lines.push('  Listed as unreachable but exercised or not documented (remove from unreachable-statuses.js):');
      for (const k of gaps.stale) lines.push(`    ${k}`);
    }
    const summary =
      `contract: ${records.length} responses checked against openapi.json, ${violations.length} violations` +
      (checkCoverage ? `, ${exercised.size} documented statuses exercised, ${gaps.missing.length} never` : '');
    process.stdout.write(`\n${summary}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
    if (lines.length) {
      this.error = new Error('The app does not match its OpenAPI document (see the contract lines above)');
      results.success = false;
    }
  }

  getLastError() {
    return this.error;
  }
}

module.exports = ContractReporter;
