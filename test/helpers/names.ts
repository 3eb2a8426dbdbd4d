// Every Docker object a test creates carries this label and a name with this prefix,
// so teardown can find and remove them even after a crashed test.
// The label's value is the pid of the vitest run that made the object: a run's setup sweeps only
// objects of runs that are no longer alive, so concurrent runs never remove each other's objects.
export const TEST_LABEL = 'bbackup.test';
export const testRunId = (): string => process.env.BBACKUP_TEST_RUN ?? String(process.pid);
export const TEST_PREFIX = 'bbt-';
export const BUSYBOX_IMAGE = 'bbackup-test-busybox:1';
export const WORKER_IMAGE = 'bbackup-worker:local';

let counter = 0;
/** A unique, recognisable name for a test object: bbt-<area>-<pid>-<n>. */
export const testName = (area: string): string => `${TEST_PREFIX}${area}-${process.pid}-${++counter}`;
