/**
 * Last line of defence for printed text: any URL credentials that reached a message
 * (a user's file, a driver error) are masked before output.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]+):[^\s/@'"]+@/gi;

export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@');
}
