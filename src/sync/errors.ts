/**
 * A pod sync step failed with a reason the API should show: the container's waiting reason
 * (CreateContainerConfigError, ErrImagePull, ...) or a pod event reason, and the message.
 */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Not an error of the pod: the step must wait (CrashLoopBackOff, ImagePullBackOff). */
export class BackoffError extends SyncError {}
