import type { Command } from 'commander';
import { formatSize } from '../../model/index.js';
import type { CliContext } from '../context.js';
import { formatAge, printJson, renderTable } from '../output.js';
import { progressPrinter } from '../progress.js';

export function registerImageCommands(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  const image = program.command('image').description('managed root filesystem images');

  image.command('list').alias('ls')
    .description('list local images')
    .addHelpText('after', '\nExample:\n  banger image list --json')
    .action(async (_o, cmd: Command) => {
      const { images } = await ctx.daemon.call('image.list', {});
      if (isJson(cmd)) return printJson(ctx.output, images);
      if (!images.length) return ctx.output.out('no images yet: `banger image pull debian-bookworm` (or the first `banger vm run`) obtains the default\n');
      ctx.output.out(renderTable(['NAME', 'SOURCE', 'DISTRO', 'SIZE', 'CREATED'], images.map((i) => [i.name, i.source, i.distro ?? '-', formatSize(i.sizeBytes), formatAge(i.createdAt)])));
    });

  image.command('show').argument('<name>')
    .description('show one image')
    .addHelpText('after', '\nExample:\n  banger image show debian-bookworm')
    .action(async (name: string) => printJson(ctx.output, (await ctx.daemon.call('image.show', { name })).image));

  image.command('pull').argument('<name>', 'catalog name, e.g. debian-bookworm')
    .description('obtain a catalog image (built from the Debian mirror) and its kernel')
    .addHelpText('after', '\nExample:\n  banger image pull debian-bookworm')
    .action(async (name: string) => {
      const { image: img } = await ctx.daemon.call('image.pull', { name }, { onProgress: progressPrinter(ctx.output) });
      ctx.output.out(`${img.name} ready (${img.rootfsPath})\n`);
    });

  image.command('delete').alias('rm').argument('<name>')
    .description('delete an image that no VM uses')
    .addHelpText('after', '\nExample:\n  banger image delete old-image')
    .action(async (name: string) => { await ctx.daemon.call('image.delete', { name }); ctx.output.out(`deleted ${name}\n`); });

  image.command('register')
    .argument('<name>')
    .requiredOption('--rootfs <file>', 'ext4 root filesystem image')
    .requiredOption('--kernel <name>', 'an installed kernel (see `banger kernel list`)')
    .option('--work-seed <file>', 'ext4 image to clone as each VM\'s /root')
    .description('adopt local artifacts as a managed image')
    .addHelpText('after', '\nExample:\n  banger image register mine --rootfs ./rootfs.ext4 --kernel debian-bookworm-cloud')
    .action(async (name: string, o: { rootfs: string; kernel: string; workSeed?: string }) => {
      const { resolve } = await import('node:path');
      const { image: img } = await ctx.daemon.call('image.register', { name, rootfs: resolve(o.rootfs), kernel: o.kernel, ...(o.workSeed && { workSeed: resolve(o.workSeed) }) });
      ctx.output.out(`registered ${img.name}\n`);
    });
}

export function registerKernelCommands(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  const kernel = program.command('kernel').description('guest kernels: installed ones and the embedded catalog');

  kernel.command('list').alias('ls')
    .option('--available', 'list the catalog instead')
    .description('list installed kernels (or, with --available, the catalog)')
    .addHelpText('after', '\nExamples:\n  banger kernel list\n  banger kernel list --available')
    .action(async (o: { available?: boolean }, cmd: Command) => {
      if (o.available) {
        const { kernels } = await ctx.daemon.call('kernel.catalog', {});
        if (isJson(cmd)) return printJson(ctx.output, kernels);
        return ctx.output.out(renderTable(['NAME', 'INSTALLED', 'VMM', 'SOURCE', 'DESCRIPTION'], kernels.map((k) => [k.name, k.installed ? 'yes' : 'no', k.firecracker ? 'firecracker, qemu' : 'qemu', k.source, k.description])));
      }
      const { kernels } = await ctx.daemon.call('kernel.list', {});
      if (isJson(cmd)) return printJson(ctx.output, kernels);
      if (!kernels.length) return ctx.output.out('no kernels installed: see `banger kernel list --available`\n');
      ctx.output.out(renderTable(['NAME', 'VERSION', 'SOURCE', 'CREATED'], kernels.map((k) => [k.name, k.version ?? '-', k.source, formatAge(k.createdAt)])));
    });

  kernel.command('show').argument('<name>')
    .description('show one installed kernel')
    .addHelpText('after', '\nExample:\n  banger kernel show debian-bookworm-cloud')
    .action(async (name: string) => printJson(ctx.output, (await ctx.daemon.call('kernel.show', { name })).kernel));

  kernel.command('pull').argument('<name>')
    .description('obtain a catalog kernel and build its initramfs')
    .addHelpText('after', '\nExample:\n  banger kernel pull debian-bookworm-cloud')
    .action(async (name: string) => {
      const { kernel: k } = await ctx.daemon.call('kernel.pull', { name }, { onProgress: progressPrinter(ctx.output) });
      ctx.output.out(`${k.name} ${k.version ?? ''} ready\n`);
    });

  kernel.command('rm').argument('<name>')
    .description('remove a kernel that no image uses')
    .addHelpText('after', '\nExample:\n  banger kernel rm old-kernel')
    .action(async (name: string) => { await ctx.daemon.call('kernel.rm', { name }); ctx.output.out(`removed ${name}\n`); });

  kernel.command('import').argument('<name>')
    .requiredOption('--from <dir>', 'directory with vmlinuz (or vmlinux) and optional initrd.img')
    .description('adopt a kernel from a local directory')
    .addHelpText('after', '\nExample:\n  banger kernel import mine --from ./kernel-out')
    .action(async (name: string, o: { from: string }) => {
      const { resolve } = await import('node:path');
      const { kernel: k } = await ctx.daemon.call('kernel.import', { name, dir: resolve(o.from) });
      ctx.output.out(`imported ${k.name}\n`);
    });
}
