#!/usr/bin/perl
# elf-patch.pl IN OUT ACTION [ARG]: copies an ELF64 image with one change,
# to make bad images for the loader tests.
#   grow-bss BYTES   memory size of the first PT_LOAD set to BYTES
#   drop-pvh-note    the PVH entry note's type changed, so it has none
#   set-paddr N ADDR physical address of the Nth PT_LOAD (from 0) set to ADDR
use strict;
use warnings;
no warnings 'portable';	# 64-bit addresses in hex

my ($in, $out, $action, $arg) = @ARGV;
die "usage: elf-patch.pl IN OUT grow-bss BYTES|drop-pvh-note|set-paddr N ADDR\n"
	unless defined $action;
open(my $fh, '<:raw', $in) or die "$in: $!";
local $/;
my $img = <$fh>;
close($fh);

my $phoff = unpack('Q<', substr($img, 32, 8));
my $phentsize = unpack('S<', substr($img, 54, 2));
my $phnum = unpack('S<', substr($img, 56, 2));
my $done = 0;
my $nth = 0;
for my $i (0 .. $phnum - 1) {
	my $ph = $phoff + $i * $phentsize;
	my $type = unpack('L<', substr($img, $ph, 4));
	if ($action eq 'grow-bss' && $type == 1) {		# PT_LOAD
		substr($img, $ph + 40, 8) = pack('Q<', $arg);	# p_memsz
		$done = 1;
		last;
	}
	if ($action eq 'set-paddr' && $type == 1 && $nth++ == $arg) {
		substr($img, $ph + 24, 8) = pack('Q<', hex($ARGV[4]));	# p_paddr
		$done = 1;
		last;
	}
	if ($action eq 'drop-pvh-note' && $type == 4) {		# PT_NOTE
		my $off = unpack('Q<', substr($img, $ph + 8, 8));
		my $end = $off + unpack('Q<', substr($img, $ph + 32, 8));
		while ($off + 12 <= $end) {
			my ($namesz, $descsz, $ntype) =
				unpack('L<L<L<', substr($img, $off, 12));
			if ($ntype == 18) {
				substr($img, $off + 8, 4) = pack('L<', 0x7fff);
				$done = 1;
			}
			$off += 12 + (($namesz + 3) & ~3) + (($descsz + 3) & ~3);
		}
	}
}
die "elf-patch.pl: nothing to patch in $in\n" unless $done;
open($fh, '>:raw', $out) or die "$out: $!";
print $fh $img;
close($fh);
