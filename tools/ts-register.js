'use strict';
// ts-node hook with the log call-site transformer, for scripts run from source (npm run bench:logging).
const path = require('node:path');
require('ts-node').register({
  project: path.join(__dirname, '..', 'tsconfig.json'),
  transpileOnly: true,
  transformers: { before: [require('./log-callsite-transformer').transformerFactory()] },
});
