#!/bin/sh
# Stands in for Composer's launcher in releases.int.spec.ts: notes the cgroups it runs in (in its
# working directory, the release's wp-content), then the real Composer runs. It lives in the
# repository (not in a test's temp dir) so the site's jail, which hides /tmp, shows it.
cat /proc/self/cgroup >.composer-cgroup
exec /usr/bin/composer "$@"
