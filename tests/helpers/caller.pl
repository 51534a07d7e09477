#!/usr/bin/perl
# caller.pl - start a command the way a caller with a given signal state
# would, optionally signal it, and report how it ended.  Used by the
# differential tests (tests/bats/12-transparency.bats) to start the same
# command with `env` and with `skm-run` and compare.
#
#   caller.pl [-i SIG]... [-b SIG]... [-s SIG:pid|SIG:group]... [-r FILE]
#             [-n] -- COMMAND [ARG]...
#
#   -i SIG        the command is started with SIG ignored
#   -b SIG        ... with SIG blocked
#   -r FILE       wait (up to 5 s) until FILE exists before signalling
#   -s SIG:pid    send SIG to the started process's pid
#   -s SIG:group  send SIG to its process group
#   -S            report stops: each time the started process stops,
#                 print "stopped: N" on stderr and send it SIGCONT
#
# The command runs as a job would under a shell without a terminal: in a
# session of its own (so it has no controlling terminal), which caller.pl
# leads, in a process group of its own that is not orphaned (so TSTP,
# TTIN and TTOU stop it).
# Prints "status: exit N" or "status: signal N" last, on stderr.
use strict;
use warnings;
use POSIX qw(setsid setpgid sigprocmask SIG_BLOCK :sys_wait_h);
use Time::HiRes qw(usleep);

my (@ign, @blk, @send, $ready, $stops);
while (@ARGV && $ARGV[0] ne '--') {
	my $o = shift @ARGV;
	if ($o eq '-i') { push @ign, shift @ARGV }
	elsif ($o eq '-b') { push @blk, shift @ARGV }
	elsif ($o eq '-s') { push @send, shift @ARGV }
	elsif ($o eq '-r') { $ready = shift @ARGV }
	elsif ($o eq '-S') { $stops = 1 }
	else { die "caller.pl: unknown option $o\n" }
}
shift @ARGV;
die "caller.pl: no command\n" unless @ARGV;

# The session leader, which waits and reports, then exits 0.
my $leader = fork // die "fork: $!";
if ($leader != 0) {
	waitpid($leader, 0);
	exit($? == 0 ? 0 : 1);
}
setsid() or die "setsid: $!";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	setpgid(0, 0) or die "setpgid: $!";
	# The signals sent start at their default unless -i says otherwise,
	# whatever this was started with (an asynchronous command of a
	# shell without job control, `make check &`, has INT and QUIT
	# ignored, and the command would inherit that).
	$SIG{(split /:/)[0]} = 'DEFAULT' for @send;
	$SIG{$_} = 'IGNORE' for @ign;
	if (@blk) {
		my $set = POSIX::SigSet->new(map { sig_num($_) } @blk);
		sigprocmask(SIG_BLOCK, $set) or die "sigprocmask: $!";
	}
	exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n";
}
if (@send) {
	if (defined $ready) {
		for (1 .. 500) { last if -e $ready; usleep(10_000) }
		die "caller.pl: $ready never appeared\n" unless -e $ready;
	}
	for (@send) {
		my ($sig, $to) = split /:/;
		kill($sig, $to eq 'group' ? -$pid : $pid);
	}
}
for (;;) {
	waitpid($pid, $stops ? WUNTRACED : 0);
	# $? does not carry a stop; the native status does.
	my $st = ${^CHILD_ERROR_NATIVE};
	last unless WIFSTOPPED($st);
	print STDERR "stopped: ", WSTOPSIG($st), "\n";
	usleep(50_000);
	kill('CONT', $pid);
}
if (WIFSIGNALED($?)) { print STDERR "status: signal ", WTERMSIG($?), "\n" }
else { print STDERR "status: exit ", WEXITSTATUS($?), "\n" }
exit 0;

sub sig_num {
	my $name = shift;
	my @names = split ' ', $Config::Config{sig_name} // do {
		require Config; $Config::Config{sig_name} };
	for my $i (0 .. $#names) { return $i if $names[$i] eq $name }
	die "caller.pl: no signal $name\n";
}
