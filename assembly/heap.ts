// Where the TypeScript allocator may start: everything below is the module's static data.
export function heap_base(): usize {
  return (__heap_base + 63) & ~63;
}
