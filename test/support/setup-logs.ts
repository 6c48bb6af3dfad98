import { redirectStdoutLines } from '../../src/logging/sinks';
import { testLogs } from './test-logs';

// The app's stdout lines go to the current test's log buffer (printed only if the test fails); with TEST_LOGS=1
// they go to stdout as they come. Lines written to SIMPLETUNER_LOG_FILE are not affected.
const sink = testLogs();
if (sink.capturing) redirectStdoutLines((line) => sink.write(line));
