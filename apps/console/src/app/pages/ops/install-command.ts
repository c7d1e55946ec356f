/**
 * The commands that enroll a new node as this product does (README "Nodes and the agent",
 * templates/systemd/pressluft-agent.service, the agent's PRESSLUFT_AGENT_* settings): the
 * one-time join token written to /etc/pressluft/join-token from stdin (a here-document: never in
 * argv, so never in `ps`), the control plane's CA beside it, the agent's node name and enrollment
 * endpoint in /etc/pressluft/agent.env, then the agent's unit started: it enrolls over gRPC.
 */
export function installCommand(node: string, token: string, controlPlaneHost: string, expiresAt: string): string {
  return [
    `# On the new node "${node}", as root, with Pressluft in /opt/pressluft and its unit`,
    `# templates/systemd/pressluft-agent.service installed. The join token goes in on stdin`,
    `# (never in argv); it enrolls this node once, until ${expiresAt}.`,
    `install -d -m 0755 /etc/pressluft`,
    `(umask 077 && cat > /etc/pressluft/join-token) <<'JOIN_TOKEN'`,
    token,
    `JOIN_TOKEN`,
    `# The control plane's CA (its PRESSLUFT_PKI_DIR, /var/lib/pressluft/pki by default):`,
    `scp root@${controlPlaneHost}:/var/lib/pressluft/pki/ca.pem /etc/pressluft/ca.pem`,
    `cat > /etc/pressluft/agent.env <<'AGENT_ENV'`,
    `PRESSLUFT_AGENT_NODE=${node}`,
    `PRESSLUFT_AGENT_ENROLL_ENDPOINT=${controlPlaneHost}:8444`,
    `AGENT_ENV`,
    `systemctl enable --now pressluft-agent`,
  ].join('\n');
}
