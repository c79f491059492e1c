#!/usr/bin/env python3
"""Adds lock entries for rollup's optional platform packages that `npm install` leaves out here.

The npm registry mirror of our machines has no metadata for non-Linux @rollup/rollup-* packages, so `npm install`
writes a lock without them, and `npm ci` then refuses it ("Missing: @rollup/rollup-darwin-x64 from lock file").
Entries with os/cpu/libc and no tarball are what npm needs: it skips them on other platforms without fetching.
Run after any `npm install` that touches the lock: python3 scripts/fix-lock-optional.py package-lock.json
"""
import json,sys
path=sys.argv[1]
d=json.load(open(path))
pk=d['packages']
rollup=pk['node_modules/rollup']
ver=rollup['version']
added=[]
for name in rollup.get('optionalDependencies',{}):
    key='node_modules/'+name
    if key in pk: continue
    parts=name.split('/rollup-')[1].split('-')
    os_=parts[0]; cpu=parts[1]
    entry={"version":ver,"cpu":[cpu],"license":"MIT","optional":True,"os":[os_]}
    rest='-'.join(parts[2:])
    if os_=='linux':
        entry['libc']=['musl'] if 'musl' in rest else ['glibc']
    pk[key]=entry; added.append(name)

json.dump(d,open(path,'w'),indent=2); open(path,'a').write('\n')
print('added',len(added))
