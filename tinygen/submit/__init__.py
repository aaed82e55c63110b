"""From measured sessions to an MLPerf Tiny submission tree (``tinygen package``).

The last stage of the data path: it reads session folders written by
``tinygen run`` (tinygen/runner) and the build folders they ran
(tinygen/port) and lays out what the MLCommons submission checker walks:

    <division>/<org>/systems/<system>.json
    <division>/<org>/code/<system>/<bench>/          the exported build
    <division>/<org>/results/<system>/<bench>/<mode>/{log.txt,results.txt,results.json}
"""
