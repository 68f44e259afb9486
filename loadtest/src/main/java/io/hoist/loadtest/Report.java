package io.hoist.loadtest;

import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/** Prints a summary to the command's stdout, as a table or as JSON. */
final class Report {
    private Report() {
    }

    static void print(CommandSpec spec, CommonOptions common, Summary summary) {
        PrintWriter out = spec.commandLine().getOut();
        out.print(common.json ? summary.toJson() + System.lineSeparator() : summary.toTable());
        out.flush();
    }
}
