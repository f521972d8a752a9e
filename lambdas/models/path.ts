import { z } from 'zod';

/** The path holds the model's name as given; `ft:` names carry colons, percent-encoded by clients. */
export const modelPathSchema = z.object({ model: z.string() });
/** Who reads models: everyone but finance, which reads costs only. */
export const MODEL_READ_ROLES = ['member', 'admin', 'owner'] as const;
