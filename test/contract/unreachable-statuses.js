'use strict';
/**
 * Documented responses that no test in this suite can produce, each with the reason. The contract reporter fails
 * a full run when a documented status is neither exercised nor listed here, and when a listed one turns out to be
 * exercised (or no longer documented), so this list stays true.
 */
const UNREACHABLE_STATUSES = [];

module.exports = { UNREACHABLE_STATUSES };
