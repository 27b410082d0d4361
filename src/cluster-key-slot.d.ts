/** Types for `cluster-key-slot` (ioredis's own slot function, which ships none): CRC16 of the key's hash tag mod 16384. */
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
