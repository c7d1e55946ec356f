import { describe, expect, it } from 'vitest';
import { cpuToPercent, memoryToMebibytes, phpSizeToMegabytes } from './quantities.js';

describe('quantities', () => {
  it.each([
    ['256M', 256],
    ['1G', 1024],
    ['4096M', 4096],
    ['99999M', 99999],
    ['0M', undefined],
    ['256', undefined],
    ['256m', undefined],
    ['1.5G', undefined],
    ['256MB', undefined],
    ['', undefined],
  ])('phpSizeToMegabytes(%j) = %s', (size, mb) => expect(phpSizeToMegabytes(size)).toBe(mb));

  it.each([
    ['64Mi', 64],
    ['512Mi', 512],
    ['2Gi', 2048],
    ['64Gi', 65536],
    ['512M', undefined],
    ['1Ti', undefined],
    ['0Mi', undefined],
    ['1.5Gi', undefined],
  ])('memoryToMebibytes(%j) = %s', (quantity, mi) => expect(memoryToMebibytes(quantity)).toBe(mi));

  it.each([
    ['1%', 1],
    ['50%', 50],
    ['800%', 800],
    ['999%', 999],
    ['0%', undefined],
    ['1000%', undefined],
    ['50', undefined],
    ['0.5', undefined],
    ['500m', undefined],
  ])('cpuToPercent(%j) = %s', (cpu, percent) => expect(cpuToPercent(cpu)).toBe(percent));
});
