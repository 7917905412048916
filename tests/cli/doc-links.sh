#!/bin/bash
# No file in the repo may point outside it: a clone has nothing next to
# it. Checked in every tracked text file:
#  - Markdown links ([text](target), ![alt](target)) that are not URLs or
#    pure #anchors must resolve to a tracked file or folder inside the repo;
#  - no reference to the documents that lived beside the repo during
#    development (../shared, shared/NAME.md, DESIGN.md, the "protocol
#    guide");
#  - a citation of an in-repo document by section, `docs/NAME.md, "Title"`
#    (how comments cite docs/design.md and docs/vfio-user.md), must name
#    an existing file and a heading of it with that title.
# First the checker runs on a scratch tree with one planted fault of each
# kind and must find them all (so this test can fail); then on the repo.
# One result line. Usage: bash tests/cli/doc-links.sh [ROOT]
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

SELF=tests/cli/doc-links.sh
# Names of what lived outside the repo; the ERE is built from pieces so
# that this file does not match itself.
OUTSIDE_RE='(\.\./)+shared\b|(^|[^[:alnum:]_.-])shared/[[:alnum:]_.-]+\.md|/work/shared|protocol'" guide|(^|[^[:alnum:]_/-])(DESIGN|STYLE)\.md|vfio-user-protocol\.md|\(guide, |the guide\b"

# list_files ROOT: the tracked text files (all files outside git).
list_files() {
	local root=$1
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$root" ls-files
	else
		(cd "$root" && find . -type f ! -path './.git/*' | sed 's|^\./||')
	fi
}

# check_tree ROOT COUNTS: prints one line per problem; writes what it
# checked ("FILES LINKS CITATIONS") to the file COUNTS.
check_tree() {
	local root=$1 counts=$2 abs_root file dir target path rel cite doc title
	local line heading nfiles=0 nlinks=0 ncites=0
	local -a files
	local -A in_repo=()
	abs_root=$(cd "$root" && pwd -P)
	mapfile -t files < <(list_files "$root")
	for file in "${files[@]}"; do
		in_repo[$file]=1
		dir=$(dirname "$file")
		while [[ $dir != . && -z ${in_repo[$dir]:-} ]]; do
			in_repo[$dir]=1
			dir=$(dirname "$dir")
		done
	done
	for file in "${files[@]}"; do
		[[ -f "$root/$file" ]] || continue
		grep -Iq . "$root/$file" 2>/dev/null || continue	# binary or empty
		nfiles=$((nfiles + 1))
		[[ $file == "$SELF" ]] && continue	# its examples are faults
		grep -nE -- "$OUTSIDE_RE" "$root/$file" |
			sed "s|^|$file:|; s|\$|  (names a document outside the repo)|"
		if [[ $file == *.md ]]; then
			dir=$(dirname "$file")
			while IFS= read -r target; do
				nlinks=$((nlinks + 1))
				target=${target%%#*}
				target=${target%% *}	# [x](path "title")
				[[ -z $target ]] && continue
				if [[ $target == /* ]]; then
					echo "$file: link to absolute path $target"
					continue
				fi
				path=$(realpath -m "$abs_root/$dir/$target")
				rel=${path#"$abs_root"/}
				if [[ $path != "$abs_root"/* ]]; then
					echo "$file: link $target leaves the repo"
				elif [[ -z ${in_repo[$rel]:-} ]]; then
					echo "$file: link $target names no file of the repo"
				fi
			done < <(grep -oE '\]\([^)[:space:]]+( "[^"]*")?\)' "$root/$file" |
				 sed -E 's/^\]\(//; s/\)$//' |
				 grep -vE '^(https?|mailto|ftp):|^#')
		fi
		while IFS= read -r cite; do
			ncites=$((ncites + 1))
			doc=${cite%%,*}
			title=${cite#*\"}
			title=${title%\"}
			if [[ -z ${in_repo[$doc]:-} || ! -f "$root/$doc" ]]; then
				echo "$file: cites $doc, which the repo does not have"
				continue
			fi
			heading=0
			while IFS= read -r line; do
				line=${line#"${line%%[!#]*}"}
				line=${line# }
				[[ $line == "$title" ]] && heading=1 && break
			done < <(grep -E '^#{1,6} ' "$root/$doc")
			[[ $heading == 1 ]] ||
				echo "$file: cites $doc, \"$title\": no such section"
		done < <(grep -oE 'docs/[[:alnum:]_.-]+\.md, "[^"]+"' "$root/$file")
		# A document named without a section must exist too.
		while IFS= read -r doc; do
			[[ -n ${in_repo[$doc]:-} ]] ||
				echo "$file: names $doc, which the repo does not have"
		done < <(grep -oE '(^|[^[:alnum:]_/.-])docs/[[:alnum:]_.-]+\.md' "$root/$file" |
			 sed -E 's|^[^d]||' | sort -u)
	done
	echo "$nfiles $nlinks $ncites" >"$counts"
}

# Planted faults, one of each kind (the link to docs/none.md counts twice,
# as a link and as a name): the checker must report exactly these 7.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tree/docs" "$scratch/tree/src"
printf '# Doc\n\n## Real section\n' >"$scratch/tree/docs/doc.md"
printf 'See [design](../shared/X.md), [ok](docs/doc.md), [gone](docs/none.md).\n' \
	>"$scratch/tree/README.md"
printf '/* (docs/doc.md, "Real section") (docs/doc.md, "No section") */\n' \
	>"$scratch/tree/src/a.c"
printf '/* rules: see the %s */\n' "protocol guide" >"$scratch/tree/src/b.h"
printf '/* see docs/gone.md */\n' >"$scratch/tree/src/c.c"
planted=$(check_tree "$scratch/tree" "$scratch/counts")
want=("README.md: link ../shared/X.md leaves the repo"
      "README.md: link docs/none.md names no file of the repo"
      "names a document outside the repo"
      "src/a.c: cites docs/doc.md, \"No section\": no such section"
      "src/b.h:1:"
      "src/c.c: names docs/gone.md, which the repo does not have")
missed=""
for w in "${want[@]}"; do
	grep -qF -- "$w" <<<"$planted" || missed+=" [$w]"
done
if [[ $(grep -c . <<<"$planted") -ne 7 || -n $missed ]]; then
	result_fail "docs: the link checker does not find planted faults:$missed"
	sed 's/^/    | /' <<<"$planted"
	exit 0
fi

root=${1:-.}
problems=$(check_tree "$root" "$scratch/counts")
read -r nfiles nlinks ncites <"$scratch/counts"
if [[ -n $problems ]]; then
	result_fail "docs: $(grep -c . <<<"$problems") references point outside the repo or at nothing"
	sed 's/^/    | /' <<<"$problems"
else
	result_pass "docs: no file links outside the repo ($nfiles files, $nlinks Markdown links, $ncites section citations checked; 7 planted faults found)"
fi
