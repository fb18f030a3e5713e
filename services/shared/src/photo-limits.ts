/** The largest photo accepted for enrolment or search: the gateway answers 413 above it, the people service refuses it too. */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
