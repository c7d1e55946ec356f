import { ApiError } from '../core/api-error';

/** What a page shows for anything thrown by an API call (ApiService throws ApiErrors; anything else is a bug, shown as such). */
export function asApiError(caught: unknown): ApiError {
  return caught instanceof ApiError ? caught : new ApiError(0, 'Unknown', caught instanceof Error ? caught.message : String(caught));
}
