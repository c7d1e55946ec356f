export const API_GROUP = 'pressluft.io';
export const API_VERSION = 'v1';
export const GROUP_VERSION = 'pressluft.io/v1';
