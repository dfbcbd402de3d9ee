// The open-file table of a tree that hands out its own handles for files opened in other trees.
import { E, FsError } from './errno.js';
import type { FileTree, Stat } from './file-tree.js';

type HandleOps = Pick<FileTree, 'read' | 'write' | 'fgetattr' | 'ftruncate' | 'fsync' | 'release'>;

export class OpenFiles implements HandleOps {
  private readonly files = new Map<number, { tree: FileTree; handle: number }>();
  private next = 1;

  /** Records a file `tree` opened as `handle`; returns the handle callers use from now on. */
  add(tree: FileTree, handle: number): number {
    const h = this.next++;
    this.files.set(h, { tree, handle });
    return h;
  }

  private get(h: number): { tree: FileTree; handle: number } {
    const f = this.files.get(h);
    if (!f) throw new FsError(E.EBADF);
    return f;
  }

  read(h: number, buf: Buffer, length: number, position: number): Promise<number> {
    const f = this.get(h);
    return f.tree.read(f.handle, buf, length, position);
  }

  write(h: number, buf: Buffer, length: number, position: number): Promise<number> {
    const f = this.get(h);
    return f.tree.write(f.handle, buf, length, position);
  }

  fgetattr(h: number): Promise<Stat> {
    const f = this.get(h);
    return f.tree.fgetattr(f.handle);
  }

  ftruncate(h: number, size: number): Promise<void> {
    const f = this.get(h);
    return f.tree.ftruncate(f.handle, size);
  }

  fsync(h: number, datasync: boolean): Promise<void> {
    const f = this.get(h);
    return f.tree.fsync(f.handle, datasync);
  }

  release(h: number): Promise<void> {
    const f = this.get(h);
    this.files.delete(h);
    return f.tree.release(f.handle);
  }
}

/** A tree made of other trees (mount tables, overlays): its open files are theirs, behind its own handles. */
export abstract class CompositeTree implements HandleOps {
  protected readonly files = new OpenFiles();

  read(h: number, buf: Buffer, length: number, position: number): Promise<number> {
    return this.files.read(h, buf, length, position);
  }

  write(h: number, buf: Buffer, length: number, position: number): Promise<number> {
    return this.files.write(h, buf, length, position);
  }

  fgetattr(h: number): Promise<Stat> {
    return this.files.fgetattr(h);
  }

  ftruncate(h: number, size: number): Promise<void> {
    return this.files.ftruncate(h, size);
  }

  fsync(h: number, datasync: boolean): Promise<void> {
    return this.files.fsync(h, datasync);
  }

  release(h: number): Promise<void> {
    return this.files.release(h);
  }
}
