# Databricks notebook source
print("prepare")
