/**
 * Who may see (GET, result.csv) and cancel (DELETE) a bulk job. `caller` is the id of the key the
 * request presented (ApiKeys.identify: a 12-hex-digit prefix of the key's SHA-256, never the key);
 * `owner` the id recorded when the job was created.
 *
 * - Keys off: everyone, as before keys existed (a job created while keys were on included: turning
 *   keys off opens the whole API, these jobs with it).
 * - Keys on: only the key that created the job. Everyone else gets the 404 of an unknown id, so a
 *   job id of another key cannot be told from one that never existed.
 * - Keys on, job without an owner (created while keys were off): nobody. Anyone who reached the
 *   open API could have submitted it, so no key can be said to be its submitter, and showing it to
 *   every key would hand one client's texts and results to all the others. Hiding it costs at
 *   most JOB_RESULT_TTL (86,400 s by default) of results after keys are turned on, after which the
 *   job would be gone anyway.
 *
 * A key that is rotated out takes its jobs with it: the new key has another id.
 */
export function jobVisibleTo(owner: string | undefined, caller: string | null, keysOn: boolean): boolean {
  if (!keysOn) return true;
  return owner !== undefined && caller !== null && owner === caller;
}
