/**
 * The V8 flags the server runs with (decision 0052): a 64 MB young generation instead of Node's
 * 16 MB, so that the short-lived objects of each device message die in a scavenge instead of
 * being promoted. They are in `npm start` and in the `fleetjobs` command's `#!` line (V8 reads
 * them before the heap exists, so they cannot be set from inside); what starts the server
 * process itself (the benchmarks) passes these.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];
