/**
 * A wall clock in milliseconds since 1970-01-01T00:00:00Z.
 *
 * Contract: none beyond "roughly now". Wall clocks are slewed and stepped by
 * NTP and operators, so a reading may be earlier than the one before it; the
 * generator, not the clock, is what keeps IDs from repeating. Fractions of a
 * millisecond are ignored.
 */
export interface Clock {
  now(): number;
}

/**
 * Where a generator gets its worker id when it is not fixed: a lease in etcd
 * (discovery's WorkerIdLease satisfies this).
 *
 * Contract: `current()` returns an id only while this process alone may use
 * it, and undefined while it may not (fenced). The generator calls it after
 * reading the clock for every millisecond it issues IDs in, so each ID's
 * timestamp was read while the id was held. The id may change between calls
 * (a re-claim after a lost lease).
 */
export interface WorkerIdSource {
  current(): number | undefined;
}
