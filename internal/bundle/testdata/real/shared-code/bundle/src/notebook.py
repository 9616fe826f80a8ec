# Databricks notebook source
import shared_library
