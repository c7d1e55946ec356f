/** Parsers for the size and CPU strings in site specs; patterns first, so parsing never guesses. */

/** PHP ini sizes: `256M`, `1G`. */
export const PHP_SIZE_PATTERN = /^[1-9][0-9]{0,4}[MG]$/;
/** Kubernetes-style binary memory quantities, restricted to Mi and Gi: `512Mi`, `2Gi`. */
export const MEMORY_QUANTITY_PATTERN = /^[1-9][0-9]{0,5}(Mi|Gi)$/;
/** CPU as a percentage of one core (systemd CPUQuota): `50%`, `200%`. */
export const CPU_PERCENT_PATTERN = /^[1-9][0-9]{0,2}%$/;

/** Megabytes in a PHP size, or undefined if it does not match PHP_SIZE_PATTERN. */
export function phpSizeToMegabytes(size: string): number | undefined {
  if (!PHP_SIZE_PATTERN.test(size)) return undefined;
  const n = Number(size.slice(0, -1));
  return size.endsWith('G') ? n * 1024 : n;
}

/** Mebibytes in a memory quantity, or undefined if it does not match MEMORY_QUANTITY_PATTERN. */
export function memoryToMebibytes(quantity: string): number | undefined {
  if (!MEMORY_QUANTITY_PATTERN.test(quantity)) return undefined;
  const n = Number(quantity.slice(0, -2));
  return quantity.endsWith('Gi') ? n * 1024 : n;
}

/** Percent of one core, or undefined if it does not match CPU_PERCENT_PATTERN. */
export function cpuToPercent(cpu: string): number | undefined {
  return CPU_PERCENT_PATTERN.test(cpu) ? Number(cpu.slice(0, -1)) : undefined;
}
