# skm.mk - record every recipe of a Makefile as a run of a skill.
#
#	include /usr/local/share/skm/skm.mk
#
# Each recipe line is run as `skm-run --skill TARGET -- SHELL FLAGS LINE`
# (with .ONESHELL, the whole recipe), so every recipe is recorded as the
# skill named after its target, without changing a recipe.  Output, exit
# status, errors and `make -j` are as without this file: skm-run adds
# nothing to the output and exits exactly as the shell did.
#
# Include it after any setting of SHELL or .SHELLFLAGS: the recipes run
# under the SHELL and .SHELLFLAGS in effect at that point.
#
# Variables (set them before or after the include, or per target):
#	SKM_MK_SKILL   the skill of a recipe; default $@.  Empty: not recorded
#	               (`clean: SKM_MK_SKILL =`); `%.o: SKM_MK_SKILL = compile`
#	               groups the objects under one skill.
#	SKM_RUN        the skm-run program
#	SKM_RUN_FLAGS  more skm-run options (`-w ci`, `-q`, `--session ID`)
# SKM_DISABLE=1 in the environment runs every recipe unrecorded.
#
# How: SHELL becomes share/skm/sh beside this file, a three-line script
# named like the POSIX shell it stands in for (GNU make treats a SHELL
# whose name starts with "sh" as one: .ONESHELL's prefix handling stays
# the same).  .SHELLFLAGS hands it make's level, the skm-run part and the
# original shell.  The script records only a recipe: a $(shell ...) call,
# which also goes through SHELL but runs at make's own MAKELEVEL, is run
# unrecorded, and so is a target whose name skm refuses as a skill (over
# 256 bytes).

SKM_RUN ?= skm-run
SKM_RUN_FLAGS ?=
SKM_MK_SKILL ?= $@

SKM_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SKM_MK_SHELL := $(SHELL)
SKM_MK_SHELLFLAGS := $(.SHELLFLAGS)

skm_mk_run = $(if $(SKM_MK_SKILL),$(SKM_RUN) --skill $(SKM_MK_SKILL) $(SKM_RUN_FLAGS) --)
SHELL := $(SKM_MK_DIR)/sh
.SHELLFLAGS = $(MAKELEVEL) $(words $(skm_mk_run)) $(skm_mk_run) $(SKM_MK_SHELL) $(SKM_MK_SHELLFLAGS)
