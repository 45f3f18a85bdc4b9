import { type Image, imageOciSchema, type Kernel } from '../model/index.js';
import type { Db } from './database.js';

/** Row <-> record mapping for images and kernels (VMs: vmRepository.ts). All SQL of the store lives in these two files. */

export class ImageRepository {
  constructor(private readonly db: Db) {}

  list(): Image[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY name').all() as unknown as ImageRow[]).map(imageFromRow);
  }

  findByName(name: string): Image | undefined {
    const r = this.db.prepare('SELECT * FROM images WHERE name = ?').get(name) as unknown as ImageRow | undefined;
    return r ? imageFromRow(r) : undefined;
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  /** Replaces an image's artifacts in place (same id, so VMs keep referring to it). */
  replace(img: Image): void {
    this.db
      .prepare(`UPDATE images SET name = @name, source = @source, distro = @distro, arch = @arch, rootfs_path = @rootfsPath, work_seed_path = @workSeedPath,
      kernel_id = @kernelId, initrd_path = @initrdPath, size_bytes = @sizeBytes, created_at = @createdAt, oci_json = @ociJson WHERE id = @id`)
      .run(imageParams(img));
  }

  usesKernel(kernelId: string): string[] {
    return (
      this.db.prepare('SELECT name FROM images WHERE kernel_id = ?').all(kernelId) as Array<{ name: string }>
    ).map((r) => r.name);
  }

  insert(img: Image): void {
    this.db
      .prepare(`INSERT INTO images (id, name, source, distro, arch, rootfs_path, work_seed_path, kernel_id, initrd_path, size_bytes, created_at, oci_json)
      VALUES (@id, @name, @source, @distro, @arch, @rootfsPath, @workSeedPath, @kernelId, @initrdPath, @sizeBytes, @createdAt, @ociJson)`)
      .run(imageParams(img));
  }
}

interface ImageRow {
  id: string;
  name: string;
  source: string;
  distro: string | null;
  arch: string;
  rootfs_path: string;
  work_seed_path: string | null;
  kernel_id: string | null;
  initrd_path: string | null;
  size_bytes: number;
  created_at: string;
  oci_json: string | null;
}

function imageParams(img: Image) {
  const { oci, ...rest } = img;
  return { ...rest, ociJson: oci ? JSON.stringify(oci) : null };
}

function imageFromRow(r: ImageRow): Image {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    distro: r.distro,
    arch: r.arch,
    rootfsPath: r.rootfs_path,
    workSeedPath: r.work_seed_path,
    kernelId: r.kernel_id,
    initrdPath: r.initrd_path,
    sizeBytes: r.size_bytes,
    createdAt: r.created_at,
    oci: r.oci_json ? imageOciSchema.parse(JSON.parse(r.oci_json)) : null,
  };
}

export class KernelRepository {
  constructor(private readonly db: Db) {}

  list(): Kernel[] {
    return (this.db.prepare('SELECT * FROM kernels ORDER BY name').all() as unknown as KernelRow[]).map(kernelFromRow);
  }

  findByName(name: string): Kernel | undefined {
    const r = this.db.prepare('SELECT * FROM kernels WHERE name = ?').get(name) as unknown as KernelRow | undefined;
    return r ? kernelFromRow(r) : undefined;
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM kernels WHERE id = ?').run(id);
  }

  /** Replaces a kernel's artifacts in place (same id, so images keep referring to it). */
  replace(k: Kernel): void {
    this.db
      .prepare(`UPDATE kernels SET version = @version, source = @source, kernel_path = @kernelPath, initrd_path = @initrdPath,
      modules_dir = @modulesDir, sha256 = @sha256, created_at = @createdAt WHERE id = @id`)
      .run(k);
  }

  insert(k: Kernel): void {
    this.db
      .prepare(`INSERT INTO kernels (id, name, version, source, kernel_path, initrd_path, modules_dir, sha256, created_at)
      VALUES (@id, @name, @version, @source, @kernelPath, @initrdPath, @modulesDir, @sha256, @createdAt)`)
      .run(k);
  }
}

interface KernelRow {
  id: string;
  name: string;
  version: string | null;
  source: string;
  kernel_path: string;
  initrd_path: string | null;
  modules_dir: string | null;
  sha256: string | null;
  created_at: string;
}

function kernelFromRow(r: KernelRow): Kernel {
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    source: r.source,
    kernelPath: r.kernel_path,
    initrdPath: r.initrd_path,
    modulesDir: r.modules_dir,
    sha256: r.sha256,
    createdAt: r.created_at,
  };
}
