export * from './gen/pressluft/agent/v1/agent.js';
