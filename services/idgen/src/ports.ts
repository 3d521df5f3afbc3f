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
