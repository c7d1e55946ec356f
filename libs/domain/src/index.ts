export { DOMAIN_PATTERN, NAME_PATTERN, validateDomain, validateName, type FieldError } from './names.js';
export { setCondition, findCondition, type Condition, type ConditionStatus } from './conditions.js';
export { compareFence, type FenceVerdict } from './fencing.js';
