/**
 * docs/protocol.md against the code it specifies.
 *
 * Goal: a rig author implements from the document, so its byte tables, code tables, constants
 * and worked examples must be what src/protocol/ does. Method: parse the Markdown tables and hex
 * blocks and compare them with messageSpecs, the code maps, constants.ts and encodeFrame.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as constants from '../../src/protocol/constants.js';
import {
  batchStateCodes,
  capabilityBits,
  emergencyStopSourceCodes,
  encodeFrame,
  fieldBytes,
  fieldWireType,
  isSequenced,
  messageSpecs,
  messageTypes,
  nakReasonCodes,
  payloadBytes,
  rigResetReasonCodes,
  tonePatternCodes,
  type Frame,
} from '../../src/protocol/index.js';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const lines = doc.split('\n');

/** The lines after the heading that starts with `heading`, up to the next heading. */
function section(heading: string): string[] {
  const start = lines.findIndex((line) => line.startsWith(heading));
  expect(start, `docs/protocol.md has no heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('#'));
  return end === -1 ? rest : rest.slice(0, end);
}

/** Rows of the first table in `text` whose header row is `header`, as arrays of trimmed cells. */
function tableRows(text: string[], header: string): string[][] {
  const start = text.findIndex((line) => line.replace(/\s+/g, ' ').trim() === header);
  if (start === -1) return [];
  const rows: string[][] = [];
  for (const line of text.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/`/g, '')),
    );
  }
  return rows;
}

const layoutHeader = '| Offset | Size | Field | Type | Meaning |';
const codeHeader = '| Code | Name | Meaning |';
const hex = (code: number) => `0x${code.toString(16).toUpperCase().padStart(2, '0')}`;

describe('docs/protocol.md', () => {
  it('lists every message with its code, direction, sequencing and payload size', () => {
    const rows = tableRows(
      section('## 5. Messages'),
      '| Code | Name | Direction | Sequenced | Payload bytes |',
    );
    const arrow = { hostToRig: 'host → rig', rigToHost: 'rig → host', both: 'both' } as const;
    expect(rows).toEqual(
      messageTypes.map((type) => {
        const spec = messageSpecs[type];
        return [
          hex(spec.code),
          spec.wireName,
          arrow[spec.direction],
          isSequenced(type) ? 'yes' : 'no',
          String(payloadBytes(type)),
        ];
      }),
    );
  });

  for (const type of messageTypes) {
    const spec = messageSpecs[type];
    it(`gives the byte layout of ${spec.wireName} as the codec has it`, () => {
      let offset = 0;
      const expected = spec.fields.map((field) => {
        const row = [String(offset), String(fieldBytes(field)), field.name, fieldWireType(field)];
        offset += fieldBytes(field);
        return row;
      });
      const rows = tableRows(section(`### ${hex(spec.code)} ${spec.wireName}`), layoutHeader);
      expect(rows.map((row) => row.slice(0, 4))).toEqual(expected);
    });
  }

  const codeTables: [string, Readonly<Record<string, number>>][] = [
    ['#### `nakReason` codes', nakReasonCodes],
    ['#### `rigResetReason` codes', rigResetReasonCodes],
    ['#### `tonePattern` codes', tonePatternCodes],
    ['#### `emergencyStopSource` codes', emergencyStopSourceCodes],
    ['#### `batchState` codes', batchStateCodes],
    [
      '#### `capabilities` bits',
      Object.fromEntries(capabilityBits.map((bit, index) => [bit, index])),
    ],
  ];
  for (const [heading, codes] of codeTables) {
    it(`gives the codes of ${heading.replace(/#+ /, '')} as the codec has them`, () => {
      const rows = tableRows(section(heading), codeHeader);
      expect(Object.fromEntries(rows.map(([code, name]) => [name, Number(code)]))).toEqual(codes);
    });
  }

  it('lists the constants with the values of constants.ts', () => {
    const rows = tableRows(section('## 7. Constants'), '| Name | Value | Meaning |');
    const exported = constants as unknown as Record<string, number>;
    for (const [name = '', value] of rows)
      expect([name, Number(value)]).toEqual([name, exported[name]]);
    // Every constant a rig needs is in the table; the rest are named here with the reason.
    const elsewhere = new Set([
      'slipEnd',
      'slipEsc',
      'slipEscEnd',
      'slipEscEsc', // §2 table
      'bitsPerByteOnWire',
      'seqModulus',
      'wireTimeModulusMs',
      'u8Max',
      'u16Max',
      'u32Max', // §1, §3, §6.2 prose
    ]);
    const documented = new Set(rows.map(([name]) => name));
    expect(
      Object.keys(exported).filter((name) => !documented.has(name!) && !elsewhere.has(name)),
    ).toEqual([]);
  });

  const examples: Record<string, Frame> = {
    'host DELIVER_STROKES seq=3 batchId=7 count=12 leadMs=500 intervalMs=60000': {
      seq: 3,
      ack: 0,
      message: { type: 'deliverStrokes', batchId: 7, count: 12, leadMs: 500, intervalMs: 60_000 },
    },
    'rig ACK ack=3': { seq: 0, ack: 3, message: { type: 'ack' } },
    'HEARTBEAT timeMs=192': { seq: 0, ack: 0, message: { type: 'heartbeat', timeMs: 192 } },
  };
  it('has worked examples whose bytes are exactly what encodeFrame writes', () => {
    const found = [...doc.matchAll(/<!-- example: (.+?) -->\n```\n([0-9a-f ]+)\n```/g)];
    expect(found.map((m) => m[1])).toEqual(Object.keys(examples));
    for (const [, name, bytes] of found) {
      const written = [...encodeFrame(examples[name!]!)]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(' ');
      expect(bytes).toBe(written);
    }
  });
});
