/**
 * The complete checkpoints a job keeps, the newest by step: OpenAI keeps a job's last three. Once
 * a newer checkpoint is stored, the trainer deletes older ones (their objects and their records),
 * so the checkpoints API lists at most this many.
 */
export const KEPT_CHECKPOINTS = 3;
