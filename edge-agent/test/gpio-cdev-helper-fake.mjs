#!/usr/bin/env node
// A stand-in for native/gatehouse-gpio-cdev (same command line and protocol) for machines without a GPIO chip:
// one chip of 58 lines labelled pinctrl-bcm2711; line 13 is held by another consumer, line 4 is used by a driver.
// Inputs on lines 5 and 6 (Wiegand D0/D1) get the bits of FAKE_WIEGAND (e.g. "1011,0110") as edges 2 ms apart,
// frames 100 ms apart, all written in one go as the helper does after the agent's loop was blocked, timestamped on
// CLOCK_MONOTONIC (process.hrtime.bigint() is the same clock in every process). An input on line 9 gets three
// edges whose line_seqno skips two; an output on line 21 fails its writes. Commands are appended to FAKE_LOG.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [cmd, chip, offset, dir] = process.argv.slice(2);
const log = (s) => process.env.FAKE_LOG && appendFileSync(process.env.FAKE_LOG, `${s}\n`);

if (cmd === 'info') {
  process.stdout.write(`chip\t${chip.split('/').pop()}\t58\tpinctrl-bcm2711\n`);
} else if (cmd === 'probe') {
  if (offset === '13') {
    process.stdout.write('err 0 EBUSY GPIO_V2_GET_LINE_IOCTL: Device or resource busy\n');
    process.exitCode = 1;
  } else if (dir === 'out') process.stdout.write(offset === '4' ? 'ok\tused\tspi0 CS0\n' : 'ok\tfree\t\n');
  else process.stdout.write('ok\t1\n');
} else if (cmd === 'serve') {
  process.stdout.write(`ready ${chip}\n`);
  const ids = new Map();
  const outs = new Map();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    log(line);
    const [op, id, a, , d] = line.split(' ');
    if (op === 'in') {
      ids.set(a, id);
      process.stdout.write(`ok ${id} 1\n`);
      if (a === '9') process.stdout.write(`ev ${id} f 1000 1\nev ${id} r 2000 2\nev ${id} f 3000 5\n`);
      if (ids.has('5') && ids.has('6') && process.env.FAKE_WIEGAND) {
        const start = process.hrtime.bigint() - 1_000_000_000n;
        const out = [];
        const seq = { 5: 0, 6: 0 };
        process.env.FAKE_WIEGAND.split(',').forEach((frame, f) => {
          [...frame].forEach((b, i) => {
            const l = b === '1' ? '6' : '5';
            const t = start + BigInt(f) * 100_000_000n + BigInt(i) * 2_000_000n;
            out.push(`ev ${ids.get(l)} f ${t} ${++seq[l]}`, `ev ${ids.get(l)} r ${t + 50_000n} ${++seq[l]}`);
          });
        });
        // D1's events after all of D0's: the order two line queues may drain in.
        out.sort((x, y) => (x.split(' ')[1] === ids.get('6')) - (y.split(' ')[1] === ids.get('6')));
        process.stdout.write(`${out.join('\n')}\n`);
      }
    } else if (op === 'out') {
      outs.set(id, a);
      process.stdout.write(`ok ${id} ${d}\n`);
    } else if (op === 'set' && outs.get(id) === '21')
      process.stdout.write(`err ${id} EIO GPIO_V2_LINE_SET_VALUES_IOCTL: Input/output error\n`);
    else if (op === 'set' || op === 'close') process.stdout.write(`ok ${id} ${a ?? 0}\n`);
  });
  rl.on('close', () => log('eof'));
}
