import {readFile} from 'node:fs/promises'
import {usageError} from '../core/errors.ts'

/** A fleet: profiles, each with tags to pick subsets by (`--tag eu`). */
export interface InventoryMember {
  profile: string
  tags: string[]
}

/**
 * An inventory file, YAML or JSON: a list of `{profile: NAME, tags: [...]}`, or a bare profile name
 * per item. Wrong shapes are refused naming the item.
 */
export async function readInventory(path: string): Promise<InventoryMember[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw usageError('INVENTORY_UNREADABLE', `cannot read the inventory ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {hint: 'pass a YAML or JSON file listing {profile, tags} items'})
  }
  const {parse} = await import('yaml')
  let items: unknown
  try {
    items = parse(text)
  } catch (error) {
    throw usageError('INVENTORY_INVALID', `${path} is not YAML or JSON: ${(error as Error).message.split('\n')[0]}`, {hint: 'write one item per profile: - {profile: prod-db1, tags: [eu, primary]}'})
  }
  if (!Array.isArray(items)) throw usageError('INVENTORY_INVALID', `${path} is not a list of profiles`, {hint: 'write one item per profile: - {profile: prod-db1, tags: [eu, primary]}'})
  return items.map((item, index) => {
    if (typeof item === 'string') return {profile: item, tags: []}
    const {profile, tags = []} = (item ?? {}) as {profile?: unknown; tags?: unknown}
    if (typeof profile !== 'string' || !Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) {
      throw usageError('INVENTORY_INVALID', `${path} item ${index + 1} is not {profile: NAME, tags: [TAG, ...]}`, {hint: 'each item names a profile (see `dbakit profile list`) and, optionally, its tags'})
    }
    return {profile, tags: tags as string[]}
  })
}

/** The members carrying every tag asked for; none at all is a usage error naming the tags there are. */
export function withTags(members: InventoryMember[], tags: string[]): InventoryMember[] {
  const chosen = members.filter((member) => tags.every((tag) => member.tags.includes(tag)))
  if (chosen.length === 0) {
    const known = [...new Set(members.flatMap((member) => member.tags))].sort()
    throw usageError('INVENTORY_NO_MATCH', `no member of the inventory has the tag${tags.length > 1 ? 's' : ''} ${tags.join(', ')}`, {hint: known.length > 0 ? `the tags there are: ${known.join(', ')}` : 'the inventory has no tags'})
  }
  return chosen
}
