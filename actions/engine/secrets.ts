/**
 * Last line of defence for printed text: any URL credentials that reached a message
 * (a user's file, a driver error) are masked before output.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]+):[^\s/@'"]+@/gi;

export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@');
}

/** Passwords inside URL-valued variables (DATABASE_URL and friends), and token-like variables. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (/(PASSWORD|TOKEN|SECRET)$/.test(name) && value.length >= 6) secrets.add(value);
    if (/:\/\//.test(value)) {
      try {
        const password = decodeURIComponent(new URL(value).password);
        if (password.length >= 3) secrets.add(password);
      } catch {
        // not a URL
      }
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** A scrubber for everything printed or written while these variables are set. */
export function secretScrubber(env: NodeJS.ProcessEnv): (text: string) => string {
  const secrets = secretValues(env);
  return (text) => secrets.reduce((acc, secret) => acc.split(secret).join('***'), maskUrlCredentials(text));
}
