import { Injectable } from '@nestjs/common';
import { isKind, type CommandSpec, type CommandStatus, type NodeStatus, type Resource, type SiteSpec, type SiteStatus } from '@pressluft/domain';

type Site = Resource<SiteSpec, SiteStatus>;
type Node = Resource<unknown, NodeStatus>;
type Command = Resource<CommandSpec, CommandStatus>;

const newer = (candidate: Resource, held: Resource | undefined): boolean =>
  held === undefined || BigInt(candidate.metadata.resourceVersion) > BigInt(held.metadata.resourceVersion);

/**
 * The engine's informer cache (leader only): the newest Site, Node and each site's newest Command
 * as the change log delivered them. The site reconciler plans from it, as Kubernetes
 * controllers plan from their informers, instead of reading the database on every pass; its
 * transaction still re-reads the site under lock and acts only when the resourceVersion it
 * planned from is current. A lagging cache therefore costs a no-op pass, never a wrong write:
 * the change it has not seen yet wakes the site again once it arrives. Filled when the engine
 * starts leading, cleared when it stops.
 */
@Injectable()
export class InformerCache {
  private readonly sites = new Map<string, Site>();
  private readonly nodes = new Map<string, Node>();
  /** Per site name: the command with the highest fence seen (fences grow across incarnations). */
  private readonly commands = new Map<string, Command>();
  private filled = false;

  /** A list of the kinds at a resourceVersion at or below where the change log is followed from. */
  fill(sites: readonly Resource[], nodes: readonly Resource[], commands: readonly Resource[]): void {
    this.clear();
    for (const object of [...sites, ...nodes, ...commands]) this.apply('ADDED', object);
    this.filled = true;
  }

  clear(): void {
    this.sites.clear();
    this.nodes.clear();
    this.commands.clear();
    this.filled = false;
  }

  /** One change from the log (replays of older versions change nothing). */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    const name = object.metadata.name;
    if (isKind(object, 'Site')) this.keep(this.sites, name, type, object);
    else if (isKind(object, 'Node')) this.keep(this.nodes, name, type, object);
    else if (isKind(object, 'Command')) {
      const command = object;
      const site = command.spec.site;
      const held = this.commands.get(site);
      if (type === 'DELETED') {
        if (held?.metadata.name === name) this.commands.delete(site);
      } else if (!held || command.spec.fence > held.spec.fence || (command.spec.fence === held.spec.fence && newer(command, held))) {
        this.commands.set(site, command);
      }
    }
  }

  private keep<T extends Resource>(map: Map<string, T>, name: string, type: string, object: T): void {
    const held = map.get(name);
    if (type === 'DELETED') {
      if (!held || newer(object, held)) map.delete(name);
      return;
    }
    if (newer(object, held)) map.set(name, object);
  }

  get ready(): boolean {
    return this.filled;
  }

  site(name: string): Site | undefined {
    return this.filled ? this.sites.get(name) : undefined;
  }

  node(name: string): Node | undefined {
    return this.filled ? this.nodes.get(name) : undefined;
  }

  allNodes(): Node[] {
    return [...this.nodes.values()];
  }

  /** The sites bound to each node, deleting ones included (what the scheduler counts against a node's capacity). */
  sitesByNode(): Map<string, Site[]> {
    const bound = new Map<string, Site[]>();
    for (const site of this.sites.values()) {
      const node = site.status.nodeName;
      if (!node) continue;
      const sites = bound.get(node);
      if (sites) sites.push(site);
      else bound.set(node, [site]);
    }
    return bound;
  }

  /** Names of the live sites the scheduler still has to place (a node's change may make room for them). */
  unscheduled(): string[] {
    return [...this.sites.values()].filter((site) => !site.status.nodeName && !site.spec.nodeName && !site.metadata.deletionTimestamp).map((site) => site.metadata.name);
  }

  /**
   * Whether a command's change tells its site's planner something new: a new command, a new
   * state (with its reason and message), or its deletion. Progress, log lines and heartbeats do
   * not. Ask before apply() takes the change in.
   */
  isNewsForSite(type: 'ADDED' | 'MODIFIED' | 'DELETED', command: Command): boolean {
    const held = this.commands.get(command.spec.site);
    return type === 'DELETED' || held?.metadata.name !== command.metadata.name || held.status.state !== command.status.state;
  }

  /** Names of the sites bound to a node. */
  sitesOn(node: string): string[] {
    return [...this.sites.values()].filter((site) => site.status.nodeName === node).map((site) => site.metadata.name);
  }

  /** The site's newest command, when the cache has seen one (undefined: ask the database). */
  latestCommand(site: string): Command | undefined {
    return this.filled ? this.commands.get(site) : undefined;
  }
}
