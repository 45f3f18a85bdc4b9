/**
 * `banger completion bash|zsh|fish` (pure): the completion scripts. Each is one template (a
 * small walker over the words typed so far) plus the command table from spec.ts rendered
 * in that shell's syntax. Live names come from `banger __complete vms|images|kernels` at TAB
 * time, which never starts the daemon.
 */
import type { CommandSpec } from './spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const TABLE = '@@TABLE@@';

/** bash and zsh share the walker's syntax (`[[ ]]`, `case`); `cmdpath`, since zsh's `path` is $PATH. */
const POSIX_WALK = `  local cmdpath="" w pending="" kind=none i npos=0 n
  local subs opts valopts optkinds args
  _banger_spec ""
  for ((i = FIRST; i < CWORD; i++)); do
    w="\${WORDS[i]}"
    if [[ -n $pending ]]; then pending=""; continue; fi
    [[ $w == -- ]] && return 0
    if [[ $w == -* ]]; then
      [[ $w != *=* && " $valopts " == *" $w "* ]] && pending="$w"
      continue
    fi
    if [[ $npos -eq 0 && " $subs " == *" $w "* ]]; then
      cmdpath="\${cmdpath:+$cmdpath }$w"
      _banger_spec "$cmdpath"
    else
      npos=$((npos + 1))
    fi
  done
  if [[ -n $pending ]]; then
    for w in $=optkinds; do [[ \${w%%=*} == "$pending" ]] && kind=\${w#*=}; done
  elif [[ $cur == -* ]]; then
    kind=opts
  elif [[ -n $subs ]]; then
    kind=subs
  else
    n=0
    for w in $=args; do
      if [[ $n -eq $npos || $w == *... ]]; then kind=\${w%...}; fi
      [[ $n -eq $npos ]] && break
      n=$((n + 1))
    done
  fi`;

const BASH = `# banger completion for bash. Load it with: source <(banger completion bash)
_banger_spec() {
  subs="" opts="" valopts="" optkinds="" args=""
  case "$1" in
${TABLE}
  esac
}
_banger() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
${POSIX_WALK.replaceAll('FIRST', '1').replaceAll('CWORD', 'COMP_CWORD').replaceAll('WORDS', 'COMP_WORDS').replaceAll('$=', '$')}
  COMPREPLY=()
  case $kind in
    subs) mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur") ;;
    opts) mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur") ;;
    vms | images | kernels)
      # Live names are data: matched by prefix, never through compgen -W (which expands $(...) in words).
      local name
      while IFS= read -r name; do
        [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
      done < <(banger __complete "$kind" 2>/dev/null)
      ;;
    files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
  esac
  return 0
}
complete -F _banger banger
`;

const ZSH = `#compdef banger
# banger completion for zsh. Load it with: source <(banger completion zsh) (after compinit),
# or save it as _banger in a directory on $fpath.
_banger_spec() {
  subs="" opts="" valopts="" optkinds="" args=""
  case "$1" in
${TABLE}
  esac
}
_banger() {
  local cur="\${words[CURRENT]}"
${POSIX_WALK.replaceAll('FIRST', '2').replaceAll('CWORD', 'CURRENT').replaceAll('WORDS', 'words')}
  case $kind in
    subs) compadd -- \${=subs} ;;
    opts) compadd -- \${=opts} ;;
    vms | images | kernels) compadd -- $(banger __complete $kind 2>/dev/null) ;;
    files) _files ;;
  esac
}
if [[ $funcstack[1] == _banger ]]; then
  _banger "$@"
else
  compdef _banger banger
fi
`;

const FISH = `# banger completion for fish. Load it with: banger completion fish | source
function __banger_spec --argument-names p
    set -g __banger_subs; set -g __banger_opts; set -g __banger_valopts; set -g __banger_optkinds; set -g __banger_args
    switch "$p"
${TABLE}
    end
end
function __banger_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l cmdpath ''
    set -l pending ''
    set -l npos 0
    set -l kind none
    __banger_spec ''
    for w in $words
        if test -n "$pending"
            set pending ''
            continue
        end
        test "$w" = '--'; and return
        if string match -q -- '-*' "$w"
            if not string match -q -- '*=*' "$w"; and contains -- "$w" $__banger_valopts
                set pending "$w"
            end
            continue
        end
        if test $npos -eq 0; and contains -- "$w" $__banger_subs
            set cmdpath (string trim -- "$cmdpath $w")
            __banger_spec "$cmdpath"
        else
            set npos (math $npos + 1)
        end
    end
    if test -n "$pending"
        for pair in $__banger_optkinds
            set -l kv (string split -m 1 = -- $pair)
            test "$kv[1]" = "$pending"; and set kind $kv[2]
        end
    else if string match -q -- '-*' "$cur"
        printf '%s\\n' $__banger_opts
        return
    else if test (count $__banger_subs) -gt 0
        printf '%s\\n' $__banger_subs
        return
    else
        set -l n 0
        for a in $__banger_args
            if test $n -eq $npos; or string match -q -- '*...' "$a"
                set kind (string replace -- '...' '' "$a")
            end
            test $n -eq $npos; and break
            set n (math $n + 1)
        end
    end
    switch $kind
        case vms images kernels
            banger __complete $kind 2>/dev/null
        case files
            __fish_complete_path "$cur"
    end
end
complete -c banger -f -a '(__banger_complete)'
`;

const words = (xs: readonly string[]) => xs.join(' ');
const kinds = (s: CommandSpec) => s.optKinds.map(([f, k]) => `${f}=${k}`);

/** One `case` arm of the bash/zsh table. */
function posixArm(s: CommandSpec): string {
  const fields = {
    subs: words(s.subs),
    opts: words(s.opts),
    valopts: words(s.valueOpts),
    optkinds: words(kinds(s)),
    args: words(s.args),
  };
  const sets = Object.entries(fields)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}='${v}'`);
  return `    '${s.path.join(' ')}') ${sets.join('; ')} ;;`;
}

/** One `case` of the fish table. */
function fishArm(s: CommandSpec): string {
  const sets = [
    ['subs', s.subs],
    ['opts', s.opts],
    ['valopts', s.valueOpts],
    ['optkinds', kinds(s)],
    ['args', s.args],
  ]
    .filter(([, v]) => v!.length > 0)
    .map(([k, v]) => `        set -g __banger_${k as string} ${(v as string[]).map((x) => `'${x}'`).join(' ')}`);
  return [`        case '${s.path.join(' ')}'`, ...sets].join('\n');
}

/** The completion script for `shell` over the command table `specs`. */
export function completionScript(shell: Shell, specs: readonly CommandSpec[]): string {
  if (shell === 'fish') return FISH.replace(TABLE, specs.map(fishArm).join('\n'));
  return (shell === 'bash' ? BASH : ZSH).replace(TABLE, specs.map(posixArm).join('\n'));
}
