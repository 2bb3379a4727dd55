// How a job's items (rows, tiles) are cut into the units the threads take by the shared counter: guided
// self-scheduling. Each unit is 1/(2 x threads) of the items still left, so the first units are big (few of
// them to post and take) and the last ones small (the threads run out of work within a small unit of each
// other: with equal units, the thread that took the last one ran on alone for up to a whole unit, 1/16 of a
// two-thread call).

/**
 * The next unit's length with `left` items to go: a multiple of `align`, at least `min` (rounded up to
 * `align`), at most `left`.
 */
export function guidedLength(left: number, threads: number, align: number, min: number): number {
  const floor = Math.max(align, Math.ceil(min / align) * align);
  return Math.min(left, Math.max(floor, Math.floor(left / (2 * threads) / align) * align));
}

// The smallest unit: a 64th of one thread's share. The units shrink by 1 - 1/(2 x threads) from a
// 1/(2 x threads) share down to it, then 2 x threads of that size: about 9 x threads units a call (17 for 2).
export const minUnit = (total: number, threads: number): number => Math.ceil(total / (threads * 64));
