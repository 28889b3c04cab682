// A small MessagePack decoder, enough to read the pointer files of uv's cache.

/** A decoded MessagePack value. Maps become `Map`s so non-string keys survive. */
export type MsgValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | MsgValue[]
  | Map<MsgValue, MsgValue>
  | { ext: number; data: Uint8Array };

export class MsgpackError extends SyntaxError {
  override name = "MsgpackError";
}

const MAX_DEPTH = 64;

/** Decodes one MessagePack value from the start of `bytes`; returns it and the bytes used. */
export function decodeMsgpack(bytes: Uint8Array): { value: MsgValue; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8", { fatal: false });
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new MsgpackError(`truncated MessagePack at byte ${pos}`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos);
    pos += 4;
    return v;
  };
  const raw = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const big = (
    v: bigint,
  ):
    | number
    | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v);
  const read = (depth: number): MsgValue => {
    if (depth > MAX_DEPTH) throw new MsgpackError("MessagePack nested too deeply");
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f, depth);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f, depth);
    if ((b & 0xe0) === 0xa0) return text.decode(raw(b & 0x1f));
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return raw(u8()).slice();
      case 0xc5:
        return raw(u16()).slice();
      case 0xc6:
        return raw(u32()).slice();
      case 0xc7: {
        const n = u8();
        const type = view.getInt8((need(1), pos++));
        return { ext: type, data: raw(n).slice() };
      }
      case 0xc8: {
        const n = u16();
        const type = view.getInt8((need(1), pos++));
        return { ext: type, data: raw(n).slice() };
      }
      case 0xc9: {
        const n = u32();
        const type = view.getInt8((need(1), pos++));
        return { ext: type, data: raw(n).slice() };
      }
      case 0xca: {
        need(4);
        const v = view.getFloat32(pos);
        pos += 4;
        return v;
      }
      case 0xcb: {
        need(8);
        const v = view.getFloat64(pos);
        pos += 8;
        return v;
      }
      case 0xcc:
        return u8();
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf: {
        need(8);
        const v = view.getBigUint64(pos);
        pos += 8;
        return big(v);
      }
      case 0xd0:
        need(1);
        return view.getInt8(pos++);
      case 0xd1: {
        need(2);
        const v = view.getInt16(pos);
        pos += 2;
        return v;
      }
      case 0xd2: {
        need(4);
        const v = view.getInt32(pos);
        pos += 4;
        return v;
      }
      case 0xd3: {
        need(8);
        const v = view.getBigInt64(pos);
        pos += 8;
        return big(v);
      }
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8: {
        const n = 1 << (b - 0xd4);
        need(1);
        const type = view.getInt8(pos++);
        return { ext: type, data: raw(n).slice() };
      }
      case 0xd9:
        return text.decode(raw(u8()));
      case 0xda:
        return text.decode(raw(u16()));
      case 0xdb:
        return text.decode(raw(u32()));
      case 0xdc:
        return array(u16(), depth);
      case 0xdd:
        return array(u32(), depth);
      case 0xde:
        return map(u16(), depth);
      case 0xdf:
        return map(u32(), depth);
      default:
        throw new MsgpackError(`invalid MessagePack byte 0x${b.toString(16)} at ${pos - 1}`);
    }
  };
  const array = (n: number, depth: number): MsgValue[] => {
    // Each element takes at least one byte: a huge declared length on short input is an error.
    need(n);
    const out: MsgValue[] = [];
    for (let i = 0; i < n; i++) out.push(read(depth + 1));
    return out;
  };
  const map = (n: number, depth: number): Map<MsgValue, MsgValue> => {
    need(n * 2);
    const out = new Map<MsgValue, MsgValue>();
    for (let i = 0; i < n; i++) {
      const key = read(depth + 1);
      out.set(key, read(depth + 1));
    }
    return out;
  };
  const value = read(0);
  return { value, length: pos };
}
