import { describe, expect, it } from 'vitest';
import { detectLayout, limitFiles, parseProcCgroup, siteCgroupDirs } from './cgroup.js';

describe('cgroups', () => {
  it('detects v1 (separate memory and cpu hierarchies) and v2', () => {
    const v1 = new Set(['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    expect(detectLayout('/sys/fs/cgroup', (p) => v1.has(p))).toBe('v1');
    expect(detectLayout('/sys/fs/cgroup', (p) => p === '/sys/fs/cgroup/cgroup.controllers')).toBe('v2');
    expect(detectLayout('/sys/fs/cgroup', () => false)).toBeUndefined();
  });

  it('parses /proc/self/cgroup', () => {
    const map = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/user.slice\n');
    expect(map.get('memory')).toBe('/process_api/abc');
    expect(map.get('cpu')).toBe('/x');
    expect(map.get('cpuacct')).toBe('/x');
    expect(map.get('')).toBe('/user.slice');
  });

  it('places a site under the prefix, at the root or below the agent', () => {
    const self = parseProcCgroup('4:memory:/process_api/abc\n1:cpu:/\n0::/agent.service\n');
    expect(siteCgroupDirs('v1', { root: '/sys/fs/cgroup', prefix: 'pressluft' }, 'site_a', self)).toEqual([
      '/sys/fs/cgroup/memory/pressluft/site_a',
      '/sys/fs/cgroup/cpu/pressluft/site_a',
    ]);
    expect(siteCgroupDirs('v1', { root: '/sys/fs/cgroup', prefix: 't1', relativeTo: 'self' }, 'site_a', self)).toEqual([
      '/sys/fs/cgroup/memory/process_api/abc/t1/site_a',
      '/sys/fs/cgroup/cpu/t1/site_a',
    ]);
    expect(siteCgroupDirs('v2', { root: '/sys/fs/cgroup', prefix: 'pressluft.slice' }, 'site_a', self)).toEqual(['/sys/fs/cgroup/pressluft.slice/site_a']);
  });

  it('turns the limits into files: memory in bytes, cpu as a share of one core', () => {
    expect(limitFiles('v1', { memoryMib: 512, cpuPercent: 50 })).toEqual([
      [['memory.limit_in_bytes', '536870912']],
      [
        ['cpu.cfs_period_us', '100000'],
        ['cpu.cfs_quota_us', '50000'],
      ],
    ]);
    expect(limitFiles('v2', { memoryMib: 64, cpuPercent: 200 })).toEqual([
      [
        ['memory.max', '67108864'],
        ['cpu.max', '200000 100000'],
      ],
    ]);
  });
});
