import { z } from 'zod';
import { conditionsSchema, labelsSchema, timestampSchema } from './field-schemas.js';
import { MEMORY_QUANTITY_PATTERN } from './quantities.js';

export const NODE_PROVIDERS = ['local', 'static', 'hetzner'] as const;
export const HETZNER_LOCATIONS = ['fsn1', 'nbg1', 'hel1', 'ash', 'hil', 'sin'] as const;
export const NODE_PHASES = ['PENDING', 'READY', 'NOT_READY'] as const;
export type NodePhase = (typeof NODE_PHASES)[number];

export const HETZNER_SERVER_TYPE_PATTERN = /^[a-z]{2,4}[0-9]{1,3}$/;
export const HETZNER_IMAGE_PATTERN = /^[a-z0-9][a-z0-9.-]{0,62}$/;
export const AGENT_VERSION_PATTERN = /^v?[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}(-[0-9A-Za-z.-]{1,64})?(\+[0-9A-Za-z.-]{1,64})?$/;

export const hetznerServerSchema = z.strictObject({
  serverType: z.string().regex(HETZNER_SERVER_TYPE_PATTERN, 'must be a Hetzner server type like cx22 or cpx31'),
  location: z.enum(HETZNER_LOCATIONS),
  image: z.string().regex(HETZNER_IMAGE_PATTERN, 'must be an image name like ubuntu-24.04'),
});

export const nodeSpecSchema = z
  .strictObject({
    provider: z.enum(NODE_PROVIDERS),
    labels: labelsSchema.default({}),
    unschedulable: z.boolean().default(false),
    /** Public address of a static node (informational: nodes dial out, nothing dials in). */
    address: z.ipv4({ error: 'must be an IPv4 address like 203.0.113.10' }).optional(),
    hetzner: hetznerServerSchema.optional(),
    /**
     * How far the scheduler may commit the node beyond what it reported (DEFAULT_OVERCOMMIT when
     * absent): a site's spec.resources are cgroup limits, caps on bursts, not reservations.
     */
    overcommit: z
      .strictObject({
        cpu: z.number().min(1).max(100).optional(),
        memory: z.number().min(1).max(10).optional(),
      })
      .optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.provider === 'hetzner' && spec.hetzner === undefined) {
      ctx.addIssue({ code: 'custom', path: ['hetzner'], message: 'is required when provider is hetzner' });
    }
    if (spec.provider !== 'hetzner' && spec.hetzner !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hetzner'], message: 'is only allowed when provider is hetzner' });
    }
  });

export const nodeStatusSchema = z.strictObject({
  phase: z.enum(NODE_PHASES).default('PENDING'),
  observedGeneration: z.int().min(0).default(0),
  agentVersion: z.string().regex(AGENT_VERSION_PATTERN, 'must be a semantic version like 1.4.0').optional(),
  lastHeartbeat: timestampSchema.optional(),
  /** One-minute load average. */
  load: z.number().min(0).max(1_000_000).optional(),
  capacity: z
    .strictObject({
      cpu: z.int().min(1).max(4096),
      memory: z.string().regex(MEMORY_QUANTITY_PATTERN, 'must be a memory quantity like 8Gi'),
    })
    .optional(),
  /** The node's public addresses as its agent last reported them (where its sites' domains must point). */
  addresses: z.array(z.union([z.ipv4(), z.ipv6()])).max(16).optional(),
  /** Sites bound to the node; the control plane fills it when it serves a node (not stored by the agent). */
  sites: z.int().min(0).optional(),
  conditions: conditionsSchema.default([]),
  /** How often the node's agent restarted each service it keeps running (nginx, redis), as it last reported (resets with the agent). */
  serviceRestarts: z.strictObject({ nginx: z.int().min(0).optional(), mariadb: z.int().min(0).optional(), redis: z.int().min(0).optional() }).optional(),
});

export type NodeSpec = z.infer<typeof nodeSpecSchema>;
export type NodeStatus = z.infer<typeof nodeStatusSchema>;
