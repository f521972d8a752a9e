import { describe, expect, it } from 'vitest';
import { everyItem, type Page } from '../../../lib/adapters';

/** A listing of `ids` served `size` at a time, after the given id, recording each page asked for. */
function pagedListing(ids: readonly string[], size: number) {
  const asked: (string | undefined)[] = [];
  const readPage = async (after: string | undefined): Promise<Page<{ id: string }>> => {
    asked.push(after);
    const start = after === undefined ? 0 : ids.indexOf(after) + 1;
    const items = ids.slice(start, start + size).map((id) => ({ id }));
    return { items, hasMore: start + size < ids.length };
  };
  return { asked, readPage };
}

describe('everyItem', () => {
  it('reads page after page, each after the last item of the one before, until none is left', async () => {
    // Prepare
    const listing = pagedListing(['a', 'b', 'c', 'd', 'e'], 2);

    // Act
    const seen: string[] = [];
    for await (const item of everyItem(listing.readPage)) seen.push(item.id);

    // Assess
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(listing.asked).toEqual([undefined, 'b', 'd']);
  });

  it('reads no further page once the caller stops', async () => {
    // Prepare
    const listing = pagedListing(['a', 'b', 'c', 'd', 'e'], 2);

    // Act
    let found: string | undefined;
    for await (const item of everyItem(listing.readPage)) {
      if (item.id === 'c') {
        found = item.id;
        break;
      }
    }

    // Assess
    expect(found).toBe('c');
    expect(listing.asked).toEqual([undefined, 'b']);
  });

  it('stops at an empty page even if it claims more', async () => {
    // Prepare
    const asked: (string | undefined)[] = [];
    const readPage = async (after: string | undefined): Promise<Page<{ id: string }>> => {
      asked.push(after);
      return { items: [], hasMore: true };
    };

    // Act
    const seen: string[] = [];
    for await (const item of everyItem(readPage)) seen.push(item.id);

    // Assess
    expect(seen).toEqual([]);
    expect(asked).toEqual([undefined]);
  });
});
