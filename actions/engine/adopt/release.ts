/**
 * Which rollout this is, and where its GitHub Actions live: what `rollout --version` prints
 * and what the workflows `rollout init` writes pin to (`uses: <repository>/…@v<version>`).
 * Both come from package.json, the one place a release changes them.
 */
import manifest from '../../../package.json' with { type: 'json' };

export const ROLLOUT_VERSION: string = manifest.version;

/** owner/name of the repository that publishes the actions and reusable workflows. */
export const ROLLOUT_REPOSITORY: string = repositoryName(manifest.repository);

/** The tag workflows pin to: the release's own tag, e.g. v0.1.0. */
export const ROLLOUT_TAG = `v${ROLLOUT_VERSION}`;

function repositoryName(field: { url?: string } | string | undefined): string {
  const url = typeof field === 'string' ? field : (field?.url ?? '');
  const match = /github(?:\.com[/:]|:)([^/]+\/[^/.]+)/.exec(url);
  if (!match) throw new Error('package.json names no GitHub repository (repository.url): the workflows rollout init writes need it');
  return match[1];
}
