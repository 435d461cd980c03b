// A Jest reporter that writes the run's totals to .ci/last-summary.json, so .ci/run can end with
// one plain `N passed, N failed` line of its own. `npm run jest` runs Jest twice (the multi-process files
// alone, one at a time, so their node processes do not share the 2 cores with another such file): the second
// run, with JEST_SUMMARY_MODE=append, adds its totals to the first's.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const failedSuites = results.numFailedTestSuites + (results.numRuntimeErrorTestSuites ?? 0);
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      failedSuites,
    };
    const out = path.join(this.rootDir, '.ci', 'last-summary.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    if (process.env.JEST_SUMMARY_MODE === 'append' && fs.existsSync(out)) {
      const before = JSON.parse(fs.readFileSync(out, 'utf8'));
      for (const key of Object.keys(summary)) summary[key] += before[key] ?? 0;
    }
    fs.writeFileSync(out, JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
