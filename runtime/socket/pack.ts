// Bit-level big-endian packing shared by Socket.pack/unpack: a bit accumulator in front of the byte stream.

/**
 * Bits written but not yet a whole byte (output), or bits read from a byte but not yet consumed (input).
 * Values wider than 32 bits go through BigInt so nothing is lost past 2^53.
 */
export class BitCursor {
  #bits = 0n;
  #count = 0;

  get pending(): number {
    return this.#count;
  }

  /** Appends the low `bits` bits of value; returns the whole bytes now complete. */
  put(value: number | bigint, bits: number): Uint8Array {
    const v = BigInt.asUintN(bits, typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
    this.#bits = (this.#bits << BigInt(bits)) | v;
    this.#count += bits;
    const whole = this.#count >> 3;
    const out = new Uint8Array(whole);
    for (let k = 0; k < whole; k++) {
      const shift = BigInt(this.#count - 8 * (k + 1));
      out[k] = Number((this.#bits >> shift) & 0xffn);
    }
    this.#count &= 7;
    this.#bits &= (1n << BigInt(this.#count)) - 1n;
    return out;
  }

  /** How many more whole bytes are needed to take `bits` bits. */
  bytesNeeded(bits: number): number {
    return Math.max(0, Math.ceil((bits - this.#count) / 8));
  }

  /** Takes `bits` bits, feeding it `bytes` (exactly bytesNeeded(bits) of them) first. */
  take(bits: number, bytes: Uint8Array): number | bigint {
    for (const b of bytes) {
      this.#bits = (this.#bits << 8n) | BigInt(b);
      this.#count += 8;
    }
    const shift = BigInt(this.#count - bits);
    const v = (this.#bits >> shift) & ((1n << BigInt(bits)) - 1n);
    this.#count -= bits;
    this.#bits &= (1n << BigInt(this.#count)) - 1n;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
}
